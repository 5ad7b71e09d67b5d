/**
 * The paths below one record besides itself: custom action routes, the state-machine history, and
 * relationship linkage and related records. Mirrors `resource-routes.ts` and `related-routes.ts`.
 */
import type { Kernel } from "../../kernel/kernel.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { errorResponses, jsonApiContent, ok, paramRef, type PathItem, requestDocument } from "./common.js";
import { acceptedSchema, argumentsSchema, type JsonSchema, pascal, ref } from "./schemas.js";

/** Adds the request schemas of custom actions to `schemas`; returns the paths. */
export function memberPaths(
  kernel: Kernel,
  resource: AnyResource,
  schemas: Record<string, JsonSchema>,
  docParams: JsonSchema[],
): Record<string, PathItem> {
  const P = pascal(resource.name);
  const T = resource.type;
  const tag = T;
  const writeErrors = errorResponses("400", "401", "403", "404", "406", "409", "415", "422");
  const paths: Record<string, PathItem> = {};
  for (const action of resource.actions.values()) {
    if (action.route === undefined || (action.type !== "update" && action.type !== "destroy")) continue;
    const A = `${P}${pascal(action.name)}`;
    const accepted =
      action.type === "update"
        ? acceptedSchema(resource, action, false)
        : { type: "object", maxProperties: 0 };
    schemas[`${A}Request`] = requestDocument(resource, accepted, argumentsSchema(action), "action");
    const transition = resource.transitionsByAction.get(action.name);
    const moves =
      transition === undefined
        ? ""
        : ` Moves ${resource.spec.stateMachine?.attribute ?? "state"} from ${transition.from.join(" or ")} to ${transition.to}.`;
    paths[`/${T}/{id}/${action.route}`] = {
      parameters: [paramRef("Id")],
      post: {
        tags: [tag],
        operationId: `${action.name.replace(/_(\w)/g, (_m, c: string) => c.toUpperCase())}${P}`,
        summary: `${action.name.replace(/_/g, " ")} (custom action)`,
        description:
          `${action.description ?? ""}${moves} The body is optional; arguments go in \`meta.arguments\`.`.trim(),
        ...(action.type === "update" ? { parameters: docParams } : {}),
        requestBody: { required: false, content: jsonApiContent(ref(`${A}Request`)) },
        responses: {
          ...(action.type === "update"
            ? { "200": ok(`${P}Document`, "The record after the action.") }
            : { "204": { description: "Done." } }),
          ...writeErrors,
        },
      },
    };
  }

  if (resource.spec.stateMachine !== undefined) {
    paths[`/${T}/{id}/history`] = {
      parameters: [paramRef("Id")],
      get: {
        tags: [tag],
        operationId: `history${P}`,
        summary: `State transitions of one of ${T}, oldest first`,
        responses: {
          "200": ok("HistoryDocument", "The transitions."),
          ...errorResponses("400", "401", "403", "404", "406"),
        },
      },
    };
  }

  for (const [name, rel] of Object.entries(resource.spec.relationships ?? {})) {
    const related = kernel.related(resource, name);
    const RP = pascal(related.name);
    const R = pascal(name);
    paths[`/${T}/{id}/relationships/${name}`] = {
      parameters: [paramRef("Id")],
      get: {
        tags: [tag],
        operationId: `relationship${P}${R}`,
        summary: `Linkage of ${name}`,
        responses: {
          "200": ok(
            rel.kind === "belongs_to" ? "ToOneLinkageDocument" : "ToManyLinkageDocument",
            "Resource identifiers.",
          ),
          ...errorResponses("400", "401", "403", "404", "406"),
        },
      },
    };
    paths[`/${T}/{id}/${name}`] = {
      parameters: [paramRef("Id")],
      get: {
        tags: [tag],
        operationId: `related${P}${R}`,
        summary: `The ${related.type} of ${name}`,
        description:
          rel.kind === "has_many"
            ? `Paginated like the list of ${related.type}, and takes its filter and sort parameters.`
            : "null when unset or when the actor may not see the related record.",
        parameters:
          rel.kind === "has_many"
            ? [paramRef("PageSize"), paramRef("PageAfter"), paramRef("PageNumber"), paramRef(`Fields${RP}`)]
            : [paramRef(`Fields${RP}`)],
        responses: {
          "200":
            rel.kind === "belongs_to"
              ? {
                  description: `The related ${related.type}.`,
                  content: jsonApiContent({ oneOf: [ref(`${RP}Document`), ref("NullDocument")] }),
                }
              : ok(`${RP}Collection`, `The related ${related.type}.`),
          ...errorResponses("400", "401", "403", "404", "406"),
        },
      },
    };
  }
  return paths;
}
