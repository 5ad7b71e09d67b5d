import { getTableName, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { SondeError } from "../../lib/errors.js";
import type { ResolvedField } from "../sql/filter-sql.js";
import type { AnyResource } from "../resource/types.js";

/** The SQL of an aggregate: a correlated sub-select over the related table (under the same RLS). */
/** Finds a registered resource by name (the kernel's registry). */
export type ResourceLookup = (name: string) => AnyResource;

function aggregateSql(resource: AnyResource, name: string, lookup: ResourceLookup): SQL {
  const agg = resource.spec.aggregates?.[name];
  const rel = agg ? resource.spec.relationships?.[agg.relationship] : undefined;
  if (agg === undefined || rel === undefined || rel.kind !== "has_many") {
    throw new SondeError("SONDE_INTERNAL", `unknown aggregate ${name}`);
  }
  const related = lookup(rel.resource().name);
  const fk = related.columns.get(rel.destinationField);
  const pk = resource.columns.get(resource.primaryKey);
  if (fk === undefined || pk === undefined)
    throw new SondeError("SONDE_INTERNAL", `aggregate ${name} is miswired`);
  const field = agg.field === undefined ? undefined : related.columns.get(agg.field);
  const target = field === undefined ? sql`*` : qualified(field);
  const fn = agg.kind === "count" ? sql`count(${target})::int` : sql.raw(agg.kind);
  const value = agg.kind === "count" ? fn : sql`${fn}(${target})`;
  return sql`(select ${value} from ${related.table} where ${qualified(fk)} = ${qualified(pk)})`;
}

/**
 * `"table"."column"`: inside a correlated sub-select an unqualified name would resolve to the inner
 * table (both have an `id`), so the outer row's key must be named with its table.
 */
function qualified(column: PgColumn): SQL {
  return sql`${sql.identifier(getTableName(column.table))}.${sql.identifier(column.name)}`;
}

/** Resolves a field name to a column, calculation or aggregate, for filters and sorting. */
export function fieldResolver(
  resource: AnyResource,
  lookup: ResourceLookup,
): (field: string) => ResolvedField | undefined {
  return (field) => {
    const column = resource.columns.get(field);
    if (column !== undefined) return { sql: column, array: resource.arrayAttributes.has(field) };
    const calc = resource.spec.calculations?.[field];
    if (calc !== undefined) return { sql: calc.sql(resource.table), array: false };
    if (resource.spec.aggregates?.[field] !== undefined)
      return { sql: aggregateSql(resource, field, lookup), array: false };
    return undefined;
  };
}

/**
 * What a read selects: every attribute but the sensitive ones, every calculation, and the aggregates
 * asked for (they cost a sub-select each, so they are loaded on request).
 */
export type Selection = Record<string, PgColumn | SQL.Aliased>;

export function projection(
  resource: AnyResource,
  lookup: ResourceLookup,
  aggregates: readonly string[] = [],
): Selection {
  const out: Selection = {};
  for (const [field, column] of resource.columns) {
    if (!resource.sensitive.has(field)) out[field] = column;
  }
  for (const [name, calc] of Object.entries(resource.spec.calculations ?? {})) {
    out[name] = calc.sql(resource.table).as(name);
  }
  for (const name of aggregates) out[name] = aggregateSql(resource, name, lookup).as(name);
  return out;
}
