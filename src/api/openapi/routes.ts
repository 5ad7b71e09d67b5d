/**
 * Serves the OpenAPI document and its HTML rendering. Both describe the API's shape only (no tenant
 * data), are the same for every caller, and are therefore served without authentication.
 */
import type { FastifyPluginAsync } from "fastify";
import type { Kernel } from "../../kernel/kernel.js";
import type { PathItem } from "./common.js";
import { renderDocsPage } from "./docs-page.js";
import { buildOpenApi } from "./document.js";

export interface OpenApiRoutesOptions {
  readonly kernel: Kernel;
  /** Routes beside the JSON:API under the same prefix, described by their own modules. */
  readonly extraPaths?: Readonly<Record<string, PathItem>>;
}

export const openApiRoutes: FastifyPluginAsync<OpenApiRoutesOptions> = async (app, opts) => {
  // Built once: the declarations do not change while the process runs.
  const document = buildOpenApi(opts.kernel, app.prefix === "" ? "/" : app.prefix, opts.extraPaths);
  const json = JSON.stringify(document);
  const page = renderDocsPage(document);
  app.get("/openapi.json", async (_request, reply) =>
    reply.type("application/json; charset=utf-8").send(json),
  );
  app.get("/docs", async (_request, reply) => reply.type("text/html; charset=utf-8").send(page));
};
