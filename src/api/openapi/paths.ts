/**
 * The paths and component schemas of one resource, mirroring exactly what `jsonApiRoutes` registers
 * for it (the same `plainAction` choice, the same custom routes), so that the document cannot promise
 * a route the server does not serve.
 */
import { FILTER_OPS } from "../../kernel/filter.js";
import type { Kernel } from "../../kernel/kernel.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { fieldsetMembers, queryableFields, relationshipNames } from "../jsonapi/fields.js";
import { plainAction } from "../jsonapi/respond.js";
import { errorResponses, jsonApiContent, ok, paramRef, type PathItem, requestDocument } from "./common.js";
import { memberPaths } from "./member-paths.js";
import {
  acceptedSchema,
  argumentsSchema,
  attributesSchema,
  type JsonSchema,
  pascal,
  ref,
  resourceObjectSchema,
} from "./schemas.js";

export interface ResourcePaths {
  readonly paths: Record<string, PathItem>;
  readonly schemas: Record<string, JsonSchema>;
  readonly parameters: Record<string, JsonSchema>;
}

export function resourcePaths(kernel: Kernel, resource: AnyResource): ResourcePaths {
  const P = pascal(resource.name);
  const T = resource.type;
  const tag = T;
  const fieldsParam = `Fields${P}`;
  const schemas: Record<string, JsonSchema> = {
    [`${P}Attributes`]: attributesSchema(kernel, resource),
    [P]: resourceObjectSchema(kernel, resource),
    [`${P}Document`]: {
      type: "object",
      properties: {
        jsonapi: ref("JsonApi"),
        data: ref(P),
        included: { type: "array", items: ref("ResourceObject") },
        links: ref("SelfLinks"),
        meta: {
          type: "object",
          description:
            "What a write action hands back once beside the record: a generated secret (`token` of an API token, never shown again) or how a follow-up went (`mail` of an invitation).",
          additionalProperties: true,
        },
      },
      required: ["data"],
    },
    [`${P}Collection`]: {
      type: "object",
      properties: {
        jsonapi: ref("JsonApi"),
        data: { type: "array", items: ref(P) },
        included: { type: "array", items: ref("ResourceObject") },
        links: ref("PageLinks"),
      },
      required: ["data"],
    },
  };
  const parameters: Record<string, JsonSchema> = {
    [fieldsParam]: {
      name: `fields[${T}]`,
      in: "query",
      description: `Sparse fieldset: comma-separated members of ${T} to show (${[...fieldsetMembers(resource)].join(", ")}). Aggregates are loaded only when named here.`,
      schema: { type: "string" },
    },
  };
  const rels = relationshipNames(resource);
  const include: JsonSchema[] =
    rels.length === 0
      ? []
      : [
          {
            name: "include",
            in: "query",
            description: `Comma-separated relationships to include (one level): ${rels.join(", ")}.`,
            schema: { type: "string" },
          },
        ];
  const fieldsFor = (names: string[]): JsonSchema[] => names.map((n) => paramRef(`Fields${n}`));
  const relatedFields = rels.map((r) => pascal(kernel.related(resource, r).name));
  const docParams = [...include, ...fieldsFor([P, ...new Set(relatedFields)])];
  const queryable = [...queryableFields(resource)];
  const opSchema = {
    type: "object",
    properties: Object.fromEntries(FILTER_OPS.map((op) => [op, { type: "string" }])),
    additionalProperties: false,
  };
  const listParams: JsonSchema[] = [
    {
      name: "filter",
      in: "query",
      style: "deepObject",
      explode: true,
      description: `Filters: \`filter[field]=value\` (equality) or \`filter[field][op]=value\` with op one of ${FILTER_OPS.join(", ")}. \`in\` takes comma-separated values; \`contains\` on a list is membership, on text a substring. Fields: ${queryable.join(", ")}.`,
      schema: {
        type: "object",
        properties: Object.fromEntries(queryable.map((f) => [f, { oneOf: [{ type: "string" }, opSchema] }])),
        additionalProperties: false,
      },
    },
    {
      name: "sort",
      in: "query",
      description: `Comma-separated fields, \`-\` for descending (e.g. \`-a,b\`): ${queryable.join(", ")}. Ties are broken by id.`,
      schema: { type: "string" },
    },
    paramRef("PageSize"),
    paramRef("PageAfter"),
    paramRef("PageNumber"),
    ...docParams,
  ];
  const collection: PathItem = {
    get: {
      tags: [tag],
      operationId: `list${P}`,
      summary: `List ${T}`,
      parameters: listParams,
      responses: {
        "200": ok(`${P}Collection`, `A page of ${T}.`),
        ...errorResponses("400", "401", "403", "406"),
      },
    },
  };
  const member: PathItem = {
    parameters: [paramRef("Id")],
    get: {
      tags: [tag],
      operationId: `get${P}`,
      summary: `Get one of ${T}`,
      parameters: docParams,
      responses: {
        "200": ok(`${P}Document`, "The record."),
        ...errorResponses("400", "401", "403", "404", "406"),
      },
    },
  };
  const writeErrors = errorResponses("400", "401", "403", "404", "406", "409", "415", "422");
  const create = plainAction(resource, "create");
  const createSpec = create === undefined ? undefined : resource.actions.get(create);
  if (createSpec !== undefined) {
    schemas[`${P}Create`] = requestDocument(
      resource,
      acceptedSchema(resource, createSpec, true),
      argumentsSchema(createSpec),
      "create",
    );
    collection.post = {
      tags: [tag],
      operationId: `create${P}`,
      summary: `Create one of ${T}`,
      ...(createSpec.description !== undefined ? { description: createSpec.description } : {}),
      parameters: docParams,
      requestBody: { required: true, content: jsonApiContent(ref(`${P}Create`)) },
      responses: {
        "201": {
          ...ok(`${P}Document`, "Created."),
          headers: {
            Location: { description: "The new record's URL.", schema: { type: "string", format: "uri" } },
          },
        },
        ...writeErrors,
      },
    };
  }
  const update = plainAction(resource, "update");
  const updateSpec = update === undefined ? undefined : resource.actions.get(update);
  if (updateSpec !== undefined) {
    schemas[`${P}Update`] = requestDocument(
      resource,
      acceptedSchema(resource, updateSpec, false),
      argumentsSchema(updateSpec),
      "update",
    );
    member.patch = {
      tags: [tag],
      operationId: `update${P}`,
      summary: `Update one of ${T}`,
      ...(updateSpec.description !== undefined ? { description: updateSpec.description } : {}),
      parameters: docParams,
      requestBody: { required: true, content: jsonApiContent(ref(`${P}Update`)) },
      responses: { "200": ok(`${P}Document`, "Updated."), ...writeErrors },
    };
  }
  if (plainAction(resource, "destroy") !== undefined) {
    member.delete = {
      tags: [tag],
      operationId: `delete${P}`,
      summary: `Delete one of ${T}`,
      responses: { "204": { description: "Deleted." }, ...errorResponses("400", "401", "403", "404", "406") },
    };
  }
  const paths: Record<string, PathItem> = { [`/${T}`]: collection, [`/${T}/{id}`]: member };

  Object.assign(paths, memberPaths(kernel, resource, schemas, docParams));
  return { paths, schemas, parameters };
}
