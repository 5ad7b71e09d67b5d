/**
 * JSON Schemas (OpenAPI 3.1 uses JSON Schema 2020-12) for each resource, derived from the same
 * declaration the kernel validates with: column types, attribute schema overrides (zod, converted),
 * accepted attributes per action, and action arguments. Nothing here is written by hand per resource.
 */
import { z } from "zod";
import type { Kernel } from "../../kernel/kernel.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import type { NamedAction } from "../../kernel/pipeline/authorize.js";
import {
  aggregateNames,
  calculationNames,
  columnType,
  type FieldType,
  fieldType,
  readableAttributes,
  type ValueKind,
} from "../jsonapi/fields.js";

export type JsonSchema = Record<string, unknown>;

export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

/** `service_check` → `ServiceCheck`: component names per resource. */
export function pascal(name: string): string {
  return name
    .split(/[_-]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

function kindSchema(kind: ValueKind): JsonSchema {
  switch (kind) {
    case "uuid":
      return { type: "string", format: "uuid" };
    case "string":
      return { type: "string" };
    case "integer":
      return { type: "integer" };
    case "number":
      return { type: "number" };
    case "boolean":
      return { type: "boolean" };
    case "date":
      return { type: "string", format: "date-time" };
    case "unknown":
      return {};
  }
}

function typeSchema(t: FieldType): JsonSchema {
  const base = t.array ? { type: "array", items: kindSchema(t.kind) } : kindSchema(t.kind);
  if (!t.nullable || Object.keys(base).length === 0) return base;
  return typeof base.type === "string"
    ? { ...base, type: [base.type, "null"] }
    : { anyOf: [base, { type: "null" }] };
}

/** A zod schema as JSON Schema (the declared input shape; what zod cannot express becomes `{}`). */
export function zodSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/** What a client may send for one attribute: the override schema if declared, else the column's. */
function inputSchema(resource: AnyResource, field: string): JsonSchema {
  const override = (
    resource.spec.attributes as Record<string, { schema?: z.ZodType } | undefined> | undefined
  )?.[field]?.schema;
  if (override !== undefined) return zodSchema(override);
  const column = resource.columns.get(field);
  return column === undefined ? {} : typeSchema(columnType(column));
}

/** Response attributes: readable attributes, calculations (read-only), aggregates (on request). */
export function attributesSchema(kernel: Kernel, resource: AnyResource): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const f of readableAttributes(resource)) {
    const t = fieldType(kernel, resource, f);
    if (t !== undefined) properties[f] = typeSchema(t);
  }
  for (const c of calculationNames(resource)) {
    const t = fieldType(kernel, resource, c);
    const description = resource.spec.calculations?.[c]?.description ?? "Calculated by the server.";
    if (t !== undefined) properties[c] = { ...typeSchema(t), readOnly: true, description };
  }
  for (const a of aggregateNames(resource)) {
    const t = fieldType(kernel, resource, a);
    const agg = resource.spec.aggregates?.[a];
    const description = `${agg?.kind ?? "aggregate"} over ${agg?.relationship ?? "a relationship"}; present only when named in fields[${resource.type}].`;
    if (t !== undefined) properties[a] = { ...typeSchema(t), readOnly: true, description };
  }
  return { type: "object", properties, additionalProperties: false };
}

/** The attributes an action accepts; for create, those without which the insert cannot succeed. */
export function acceptedSchema(resource: AnyResource, action: NamedAction, create: boolean): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const f of action.accept ?? []) properties[f] = inputSchema(resource, f);
  const required = create
    ? (action.accept ?? []).filter((f) => {
        const column = resource.columns.get(f);
        return (
          (action.require ?? []).includes(f) || (column !== undefined && column.notNull && !column.hasDefault)
        );
      })
    : [];
  return {
    type: "object",
    properties,
    additionalProperties: false,
    ...(required.length > 0 ? { required } : {}),
  };
}

/** `meta.arguments` of an action, when it declares any. */
export function argumentsSchema(action: NamedAction): JsonSchema | undefined {
  return action.arguments === undefined ? undefined : zodSchema(action.arguments);
}

/** The relationships object of a response resource object. */
export function relationshipsSchema(kernel: Kernel, resource: AnyResource): JsonSchema | undefined {
  const properties: Record<string, JsonSchema> = {};
  for (const [name, rel] of Object.entries(resource.spec.relationships ?? {})) {
    const related = kernel.related(resource, name);
    const identifier = {
      type: "object",
      properties: { type: { const: related.type }, id: { type: "string" } },
      required: ["type", "id"],
    };
    properties[name] = {
      type: "object",
      properties: {
        links: ref("RelationshipLinks"),
        data:
          rel.kind === "belongs_to"
            ? { oneOf: [identifier, { type: "null" }] }
            : { type: "array", items: identifier },
      },
      required: ["links"],
      description:
        rel.kind === "belongs_to"
          ? `To-one: the ${related.type} named by ${rel.sourceField}.`
          : `To-many: the ${related.type} whose ${rel.destinationField} is this record; data only when included.`,
    };
  }
  return Object.keys(properties).length === 0 ? undefined : { type: "object", properties };
}

/** The response resource object of a resource. */
export function resourceObjectSchema(kernel: Kernel, resource: AnyResource): JsonSchema {
  const relationships = relationshipsSchema(kernel, resource);
  return {
    type: "object",
    description: resource.spec.description ?? `A ${resource.name.replace(/_/g, " ")}.`,
    properties: {
      type: { const: resource.type },
      id: { type: "string" },
      attributes: ref(`${pascal(resource.name)}Attributes`),
      ...(relationships !== undefined ? { relationships } : {}),
      links: ref("SelfLinks"),
    },
    required: ["type", "id", "attributes", "links"],
  };
}
