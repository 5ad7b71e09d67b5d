/**
 * The kernel's filter language: one tree used by policies (filter checks), the JSON:API `filter[...]`
 * parameters and, later, SRQL. It compiles to a SQL `WHERE` over a resource's table, and it evaluates
 * in memory against a candidate record, which is how a create is checked against a filter policy
 * before anything is written.
 */
import type { Actor } from "./actor.js";

export const FILTER_OPS = [
  "eq",
  "ne",
  "gt",
  "gte",
  "lt",
  "lte",
  "in",
  "contains",
  "like",
  "is_null",
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** A value taken from the actor at evaluation time, e.g. `{ actor: "id" }` for "rows I own". */
export interface ActorRef {
  readonly actor: "id" | "tenantId" | "role";
}

export type FilterValue = string | number | boolean | null | Date | readonly (string | number)[] | ActorRef;

export interface FieldCondition {
  readonly field: string;
  readonly op: FilterOp;
  readonly value: FilterValue;
}

export type Filter =
  | FieldCondition
  | { readonly and: readonly Filter[] }
  | { readonly or: readonly Filter[] }
  | { readonly not: Filter }
  | boolean;

export function isActorRef(v: unknown): v is ActorRef {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date) && "actor" in v;
}

export function resolveActorRef(ref: ActorRef, actor: Actor): string | null {
  if (actor.kind !== "user") return null;
  switch (ref.actor) {
    case "id":
      return actor.id;
    case "tenantId":
      return actor.tenantId;
    case "role":
      return actor.role;
  }
}

/** Simplifying constructors: constant sides collapse so that policies without filters stay booleans. */
export function and(...parts: Filter[]): Filter {
  if (parts.some((p) => p === false)) return false;
  const rest = parts.filter((p) => p !== true);
  if (rest.length === 0) return true;
  if (rest.length === 1) return rest[0] ?? true;
  return { and: rest };
}

export function or(...parts: Filter[]): Filter {
  if (parts.some((p) => p === true)) return true;
  const rest = parts.filter((p) => p !== false);
  if (rest.length === 0) return false;
  if (rest.length === 1) return rest[0] ?? false;
  return { or: rest };
}

export function not(part: Filter): Filter {
  if (part === true) return false;
  if (part === false) return true;
  return { not: part };
}

/** Every field a filter names (for verification against the resource's attributes). */
export function filterFields(f: Filter): string[] {
  if (typeof f === "boolean") return [];
  if ("and" in f) return f.and.flatMap(filterFields);
  if ("or" in f) return f.or.flatMap(filterFields);
  if ("not" in f) return filterFields(f.not);
  return [f.field];
}

function compare(a: unknown, b: unknown): number {
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  if (typeof x === "number" && typeof y === "string") return x - Number(y);
  if (typeof x === "string" && typeof y === "string") return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === "number" && typeof y === "number") return x - y;
  return Number.NaN;
}

function likeToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/%/g, ".*")
    .replace(/_/g, ".");
  return new RegExp(`^${escaped}$`, "s");
}

/** Evaluates a filter against an in-memory record (same semantics as the SQL it compiles to). */
export function matches(f: Filter, record: Readonly<Record<string, unknown>>, actor: Actor): boolean {
  if (typeof f === "boolean") return f;
  if ("and" in f) return f.and.every((p) => matches(p, record, actor));
  if ("or" in f) return f.or.some((p) => matches(p, record, actor));
  if ("not" in f) return !matches(f.not, record, actor);
  const actual = record[f.field];
  const expected = isActorRef(f.value) ? resolveActorRef(f.value, actor) : f.value;
  switch (f.op) {
    case "eq":
      return expected === null
        ? actual === null || actual === undefined
        : compare(actual, expected) === 0 || actual === expected;
    case "ne":
      return !(compare(actual, expected) === 0 || actual === expected);
    case "gt":
      return compare(actual, expected) > 0;
    case "gte":
      return compare(actual, expected) >= 0;
    case "lt":
      return compare(actual, expected) < 0;
    case "lte":
      return compare(actual, expected) <= 0;
    case "in":
      return Array.isArray(expected) && expected.some((e) => compare(actual, e) === 0 || actual === e);
    case "contains":
      return Array.isArray(actual)
        ? actual.includes(expected)
        : typeof actual === "string" && typeof expected === "string" && actual.includes(expected);
    case "like":
      return (
        typeof actual === "string" && typeof expected === "string" && likeToRegExp(expected).test(actual)
      );
    case "is_null":
      return (actual === null || actual === undefined) === (expected === true);
  }
}
