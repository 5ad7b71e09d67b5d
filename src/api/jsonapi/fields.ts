/**
 * What the transports need to know about a resource's members beyond the kernel's view: the value
 * type of each field (to coerce query-string values and to describe schemas) and which members a
 * document shows. Derived from the declaration, never declared twice.
 */
import type { PgColumn } from "drizzle-orm/pg-core";
import type { Kernel } from "../../kernel/kernel.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { SondeError } from "../../lib/errors.js";

export type ValueKind = "uuid" | "string" | "integer" | "number" | "boolean" | "date" | "unknown";

export interface FieldType {
  readonly kind: ValueKind;
  readonly array: boolean;
  readonly nullable: boolean;
}

function kindOfSql(t: string): ValueKind {
  if (t === "uuid") return "uuid";
  if (t === "text" || t.startsWith("varchar") || t.startsWith("character")) return "string";
  if (t === "inet" || t === "cidr" || t === "macaddr") return "string";
  if (["integer", "smallint", "serial", "smallserial"].includes(t)) return "integer";
  // bigint arrives from the drivers as a number or a string depending on the mode; both are integers.
  if (t === "bigint" || t === "bigserial") return "integer";
  if (t === "boolean") return "boolean";
  if (t.startsWith("numeric") || t === "real" || t === "double precision") return "number";
  if (t.startsWith("timestamp") || t === "date") return "date";
  return "unknown";
}

export function columnType(column: PgColumn): FieldType {
  const sqlType = column.getSQLType();
  const array = sqlType.endsWith("[]");
  return { kind: kindOfSql(array ? sqlType.slice(0, -2) : sqlType), array, nullable: !column.notNull };
}

/** The type of an attribute, calculation or aggregate; undefined for anything else. */
export function fieldType(kernel: Kernel, resource: AnyResource, field: string): FieldType | undefined {
  const column = resource.columns.get(field);
  if (column !== undefined) return columnType(column);
  const calc = resource.spec.calculations?.[field];
  if (calc !== undefined) {
    return { kind: calc.type === "date" ? "date" : calc.type, array: false, nullable: true };
  }
  const agg = resource.spec.aggregates?.[field];
  if (agg === undefined) return undefined;
  if (agg.kind === "count") return { kind: "integer", array: false, nullable: false };
  const related = kernel.related(resource, agg.relationship);
  const target = agg.field === undefined ? undefined : related.columns.get(agg.field);
  // sum/max/min over no rows is NULL.
  return { kind: target === undefined ? "number" : columnType(target).kind, array: false, nullable: true };
}

/** Attributes shown in documents: every column but the primary key (it is the id) and sensitive ones. */
export function readableAttributes(resource: AnyResource): string[] {
  return [...resource.columns.keys()].filter((f) => f !== resource.primaryKey && !resource.sensitive.has(f));
}

export function calculationNames(resource: AnyResource): string[] {
  return Object.keys(resource.spec.calculations ?? {});
}

export function aggregateNames(resource: AnyResource): string[] {
  return Object.keys(resource.spec.aggregates ?? {});
}

export function relationshipNames(resource: AnyResource): string[] {
  return Object.keys(resource.spec.relationships ?? {});
}

/** Fields that `filter[...]` and `sort` accept. */
export function queryableFields(resource: AnyResource): Set<string> {
  return new Set([...resource.filterable, ...calculationNames(resource), ...aggregateNames(resource)]);
}

/** Member names that may appear in `fields[type]`. */
export function fieldsetMembers(resource: AnyResource): Set<string> {
  return new Set([
    ...readableAttributes(resource),
    ...calculationNames(resource),
    ...aggregateNames(resource),
    ...relationshipNames(resource),
  ]);
}

/** The names of routes a resource already uses below `/{type}/{id}/`, which nothing else may take. */
const RESERVED_SEGMENTS = new Set(["relationships", "history"]);

/**
 * Refuses, at registration, a resource that JSON:API cannot represent: attributes or relationships
 * named `type` or `id` (forbidden by the specification), or a relationship whose name collides with
 * a route segment.
 */
export function assertRepresentable(resource: AnyResource): void {
  const bad = (message: string) =>
    new SondeError(
      "SONDE_CONFIG_INVALID",
      `resource ${resource.name} cannot be served as JSON:API: ${message}`,
    );
  for (const member of [...fieldsetMembers(resource)]) {
    if (member === "type" || member === "id") throw bad(`it has a member named ${member}`);
  }
  for (const rel of relationshipNames(resource)) {
    if (RESERVED_SEGMENTS.has(rel)) throw bad(`relationship ${rel} collides with the /${rel} route`);
  }
}
