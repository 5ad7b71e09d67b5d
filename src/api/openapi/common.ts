/**
 * The parts of the OpenAPI document that every resource shares: JSON:API envelope schemas, error
 * documents, the responses each error status uses, pagination parameters and the security scheme.
 */
import { MAX_PAGE_SIZE } from "../../kernel/kernel.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { JSONAPI_MEDIA_TYPE } from "../jsonapi/content-type.js";
import { type JsonSchema, ref } from "./schemas.js";

export function jsonApiContent(schema: JsonSchema): JsonSchema {
  return { [JSONAPI_MEDIA_TYPE]: { schema } };
}

const link = { type: "string", format: "uri" };

export const COMMON_SCHEMAS: Record<string, JsonSchema> = {
  JsonApi: {
    type: "object",
    properties: { version: { type: "string", const: "1.0" } },
  },
  SelfLinks: { type: "object", properties: { self: link }, required: ["self"] },
  RelationshipLinks: {
    type: "object",
    properties: { self: link, related: link },
    required: ["self", "related"],
  },
  PageLinks: {
    type: "object",
    properties: {
      self: link,
      next: { oneOf: [link, { type: "null" }], description: "The next page; null on the last one." },
    },
    required: ["self"],
  },
  ResourceObject: {
    type: "object",
    description: "Any resource object (included documents mix types).",
    properties: {
      type: { type: "string" },
      id: { type: "string" },
      attributes: { type: "object" },
      relationships: { type: "object" },
      links: ref("SelfLinks"),
    },
    required: ["type", "id"],
  },
  ResourceIdentifier: {
    type: "object",
    properties: { type: { type: "string" }, id: { type: "string" } },
    required: ["type", "id"],
  },
  ErrorObject: {
    type: "object",
    properties: {
      status: { type: "string", description: "The HTTP status, as a string." },
      code: { type: "string", description: "A stable SONDE_… code from the error catalogue." },
      title: { type: "string" },
      detail: { type: "string" },
      source: {
        type: "object",
        properties: {
          pointer: { type: "string", description: "JSON Pointer into the request document." },
          parameter: { type: "string", description: "The offending query parameter." },
        },
      },
      meta: { type: "object", properties: { retryable: { type: "boolean" } } },
    },
    required: ["status", "code", "title", "detail"],
  },
  ErrorDocument: {
    type: "object",
    properties: { errors: { type: "array", items: ref("ErrorObject"), minItems: 1 } },
    required: ["errors"],
  },
  HistoryDocument: {
    type: "object",
    properties: {
      jsonapi: ref("JsonApi"),
      meta: {
        type: "object",
        properties: {
          history: {
            type: "array",
            items: {
              type: "object",
              properties: {
                action: { type: "string" },
                from: { type: "string" },
                to: { type: "string" },
                actor_kind: { type: "string", enum: ["user", "system"] },
                actor_id: { type: "string" },
                at: { type: "string", format: "date-time" },
              },
              required: ["action", "from", "to", "actor_kind", "actor_id", "at"],
            },
          },
        },
        required: ["history"],
      },
      links: ref("SelfLinks"),
    },
    required: ["meta"],
  },
  NullDocument: {
    type: "object",
    properties: { jsonapi: ref("JsonApi"), data: { type: "null" }, links: ref("SelfLinks") },
    required: ["data"],
  },
  ToOneLinkageDocument: {
    type: "object",
    properties: {
      jsonapi: ref("JsonApi"),
      data: { oneOf: [ref("ResourceIdentifier"), { type: "null" }] },
      links: ref("RelationshipLinks"),
    },
    required: ["data"],
  },
  ToManyLinkageDocument: {
    type: "object",
    properties: {
      jsonapi: ref("JsonApi"),
      data: { type: "array", items: ref("ResourceIdentifier") },
      links: ref("RelationshipLinks"),
    },
    required: ["data"],
  },
};

/** Error statuses and what each means on these routes. */
const ERRORS: Record<string, string> = {
  "400": "Malformed query parameter or document (`source.parameter` or `source.pointer` names it).",
  "401": "No credentials, malformed credentials, or credentials that are not valid.",
  "403": "The actor's role or the record's policy does not allow this action.",
  "404": "No such record, or not one the actor may see (records of other tenants are never seen).",
  "406": "Accept names the JSON:API media type only with media type parameters.",
  "409":
    "Conflict: `data.type`/`data.id` mismatch, a taken unique attribute, or an invalid state transition.",
  "415": "The request body is not `application/vnd.api+json` without parameters.",
  "422": "An attribute or argument is invalid (`source.pointer` names it).",
};

export const COMMON_RESPONSES: Record<string, JsonSchema> = Object.fromEntries(
  Object.entries(ERRORS).map(([status, description]) => [
    `Error${status}`,
    { description, content: jsonApiContent(ref("ErrorDocument")) },
  ]),
);

export function errorResponses(...statuses: string[]): Record<string, JsonSchema> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: `#/components/responses/Error${s}` }]));
}

export const PAGE_PARAMETERS: Record<string, JsonSchema> = {
  PageSize: {
    name: "page[size]",
    in: "query",
    description: "Records per page (default 50).",
    schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE },
  },
  PageAfter: {
    name: "page[after]",
    in: "query",
    description: "Opaque cursor from `links.next`: the page after the last record seen (keyset pagination).",
    schema: { type: "string" },
  },
  PageNumber: {
    name: "page[number]",
    in: "query",
    description: "1-based page number (offset pagination); not combinable with page[after].",
    schema: { type: "integer", minimum: 1 },
  },
  Id: { name: "id", in: "path", required: true, schema: { type: "string" }, description: "The record's id." },
};

export const SECURITY_SCHEMES: Record<string, JsonSchema> = {
  bearerAuth: {
    type: "http",
    scheme: "bearer",
    description: "An API token: `Authorization: Bearer <token>`. A signed-in session cookie works as well.",
  },
};

/** A path item: operations by method, plus shared `parameters`. */
export type PathItem = Record<string, unknown>;

export const paramRef = (name: string): JsonSchema => ({ $ref: `#/components/parameters/${name}` });

/** A 200/201 response carrying the named document schema. */
export function ok(schema: string, description: string): JsonSchema {
  return { description, content: jsonApiContent(ref(schema)) };
}

/**
 * A request document. Create and update need `data` (update with the id); a custom action's body is
 * optional, and so is its `data`, which only identifies the record when sent.
 */
export function requestDocument(
  resource: AnyResource,
  attributes: JsonSchema,
  args: JsonSchema | undefined,
  kind: "create" | "update" | "action",
): JsonSchema {
  const withId = kind !== "create";
  const data = {
    type: "object",
    properties: {
      type: { const: resource.type },
      ...(withId ? { id: { type: "string", description: "Must equal the id in the URL." } } : {}),
      attributes,
    },
    required: withId ? ["type", "id"] : ["type"],
  };
  const meta = args === undefined ? undefined : { type: "object", properties: { arguments: args } };
  return {
    type: "object",
    properties: { data, ...(meta !== undefined ? { meta } : {}) },
    ...(kind === "action" ? {} : { required: ["data"] }),
  };
}
