/**
 * The OpenAPI 3.1 document of the JSON:API, built from the kernel's resources at start-up. Served at
 * `/api/v2/openapi.json` and rendered at `/api/v2/docs`.
 */
import type { Kernel } from "../../kernel/kernel.js";
import { SONDE_VERSION } from "../../lib/version.js";
import { COMMON_RESPONSES, COMMON_SCHEMAS, PAGE_PARAMETERS, SECURITY_SCHEMES } from "./common.js";
import type { PathItem } from "./common.js";
import { resourcePaths } from "./paths.js";
import type { JsonSchema } from "./schemas.js";

export interface OpenApiDocument {
  readonly openapi: "3.1.0";
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly servers: readonly { readonly url: string }[];
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly paths: Record<string, PathItem>;
  readonly components: {
    readonly schemas: Record<string, JsonSchema>;
    readonly parameters: Record<string, JsonSchema>;
    readonly responses: Record<string, JsonSchema>;
    readonly securitySchemes: Record<string, JsonSchema>;
  };
  readonly security: readonly Record<string, readonly string[]>[];
}

const DESCRIPTION = `Sonde's resources as JSON:API 1.0 (media type \`application/vnd.api+json\`).
Every request is authenticated and runs through the same actions and policies as every other entry
point; records of other tenants do not exist for the caller (404). Errors are JSON:API error objects
with a stable \`code\` and, where one part of the request is at fault, \`source.pointer\` or
\`source.parameter\`.`;

/**
 * @param serverUrl where the routes are mounted (the plugin's prefix)
 * @param extraPaths routes beside the JSON:API under the same prefix (the cluster view), described
 *   by the modules that serve them
 */
export function buildOpenApi(
  kernel: Kernel,
  serverUrl: string,
  extraPaths: Readonly<Record<string, PathItem>> = {},
): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {};
  const schemas: Record<string, JsonSchema> = { ...COMMON_SCHEMAS };
  const parameters: Record<string, JsonSchema> = { ...PAGE_PARAMETERS };
  const tags: { name: string; description: string }[] = [];
  for (const resource of kernel.resources.values()) {
    const r = resourcePaths(kernel, resource);
    Object.assign(paths, r.paths);
    Object.assign(schemas, r.schemas);
    Object.assign(parameters, r.parameters);
    tags.push({
      name: resource.type,
      description: resource.spec.description ?? `The ${resource.plural.replace(/_/g, " ")}.`,
    });
  }
  Object.assign(paths, extraPaths);
  // Each tag an extra route names is listed once, described by the route's summary.
  for (const item of Object.values(extraPaths)) {
    for (const op of Object.values(item) as { tags?: string[]; summary?: string }[]) {
      for (const name of op.tags ?? []) {
        if (!tags.some((t) => t.name === name)) tags.push({ name, description: op.summary ?? name });
      }
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "Sonde JSON:API", version: SONDE_VERSION, description: DESCRIPTION },
    servers: [{ url: serverUrl }],
    tags,
    paths,
    components: { schemas, parameters, responses: COMMON_RESPONSES, securitySchemes: SECURITY_SCHEMES },
    security: [{ bearerAuth: [] }],
  };
}
