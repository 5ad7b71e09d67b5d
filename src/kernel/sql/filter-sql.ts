import {
  and,
  eq,
  gt,
  gte,
  inArray,
  isNotNull,
  isNull,
  like,
  lt,
  lte,
  ne,
  not,
  or,
  type SQL,
  type Column,
  sql,
} from "drizzle-orm";
import { SondeError } from "../../lib/errors.js";
import type { Actor } from "../actor.js";
import { type Filter, isActorRef, resolveActorRef } from "../filter.js";

/** What a filter's field name stands for: a column or a SQL expression, and whether it is an array. */
export interface ResolvedField {
  readonly sql: SQL | Column;
  readonly array: boolean;
}
export type FieldResolver = (field: string) => ResolvedField | undefined;

/** The literal part of a LIKE pattern before its first wildcard or escape. */
function literalPrefix(pattern: string): string {
  const stop = pattern.search(/[%_\\]/);
  return stop === -1 ? pattern : pattern.slice(0, stop);
}

/**
 * LIKE, plus the byte-wise range its literal prefix implies (`~>=~` / `~<~`, the operators of a
 * `text_pattern_ops` index). Under row-level security only leakproof operators may reach an index:
 * LIKE is not, so `hostname LIKE 'core-%'` alone scans every row of the tenant; the range
 * operators are, so an index on the column can serve the prefix. LIKE stays for exactness. The upper
 * bound is the prefix followed by U+10FFFF, the greatest code point.
 */
function likeWithPrefixRange(column: SQL, pattern: string): SQL {
  const prefix = literalPrefix(pattern);
  if (prefix.length === 0) return like(column, pattern);
  return sql`(${column} ~>=~ ${prefix} and ${column} ~<~ ${`${prefix}\u{10FFFF}`} and ${like(column, pattern)})`;
}

/** Compiles a filter to a SQL condition; the same semantics as `matches()` in memory. */
export function filterToSql(f: Filter, resolve: FieldResolver, actor: Actor): SQL {
  if (f === true) return sql`true`;
  if (f === false) return sql`false`;
  if ("and" in f) return and(...f.and.map((p) => filterToSql(p, resolve, actor))) ?? sql`true`;
  if ("or" in f) return or(...f.or.map((p) => filterToSql(p, resolve, actor))) ?? sql`false`;
  if ("not" in f) return not(filterToSql(f.not, resolve, actor));
  const resolved = resolve(f.field);
  if (resolved === undefined) {
    throw new SondeError("SONDE_INTERNAL", `filter names unknown field ${f.field}`);
  }
  // As SQL (not Column) so that values bind as plain parameters whatever the column type.
  const column: SQL = sql`${resolved.sql}`;
  const value = isActorRef(f.value) ? resolveActorRef(f.value, actor) : f.value;
  switch (f.op) {
    case "eq":
      return value === null ? isNull(column) : eq(column, value);
    case "ne":
      return value === null ? isNotNull(column) : ne(column, value);
    case "gt":
      return gt(column, value);
    case "gte":
      return gte(column, value);
    case "lt":
      return lt(column, value);
    case "lte":
      return lte(column, value);
    case "in":
      return Array.isArray(value) && value.length > 0 ? inArray(column, [...value]) : sql`false`;
    case "contains":
      // Arrays: element membership; text: substring.
      return resolved.array ? sql`${value} = any(${column})` : sql`strpos(${column}, ${String(value)}) > 0`;
    case "like":
      return likeWithPrefixRange(column, String(value));
    case "is_null":
      return value === true ? isNull(column) : isNotNull(column);
  }
}
