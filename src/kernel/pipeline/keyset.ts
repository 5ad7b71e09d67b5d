import { and, asc, desc, isNotNull, isNull, or, type SQL, sql } from "drizzle-orm";
import { SondeError } from "../../lib/errors.js";
import type { ResolvedField } from "../sql/filter-sql.js";

export interface SortKey {
  readonly field: string;
  readonly direction: "asc" | "desc";
}

/**
 * Keyset ("seek") pagination: the cursor holds the last row's sort values, and the next page starts
 * strictly after it. Cost does not grow with depth, unlike OFFSET. NULLs sort last ascending and first
 * descending (PostgreSQL's default), so NULL behaves as the largest value in both.
 */
export function encodeCursor(values: readonly unknown[]): string {
  return Buffer.from(
    JSON.stringify(values.map((v) => (v instanceof Date ? { d: v.toISOString() } : v))),
  ).toString("base64url");
}

export function decodeCursor(cursor: string, length: number): unknown[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Array.isArray(parsed) || parsed.length !== length) throw new Error("shape");
    return parsed.map((v: unknown) =>
      typeof v === "object" && v !== null && "d" in v && typeof v.d === "string" ? new Date(v.d) : v,
    );
  } catch {
    throw new SondeError("SONDE_BAD_REQUEST", "page[after] is not a cursor this list issued", {
      parameter: "page[after]",
    });
  }
}

/** ORDER BY for the sort keys (the primary key last, as the tie-breaker). */
export function orderBy(keys: readonly SortKey[], resolve: (f: string) => ResolvedField): SQL[] {
  return keys.map((k) => {
    const col = sql`${resolve(k.field).sql}`;
    return k.direction === "asc" ? asc(col) : desc(col);
  });
}

/** WHERE for "rows after this cursor" under the given order. */
export function afterCursor(
  keys: readonly SortKey[],
  values: readonly unknown[],
  resolve: (f: string) => ResolvedField,
): SQL {
  const branches: SQL[] = [];
  for (let i = 0; i < keys.length; i++) {
    const equalPrefix = keys.slice(0, i).map((k, j) => equalTo(sql`${resolve(k.field).sql}`, values[j]));
    const key = keys[i];
    if (key === undefined) continue;
    const beyond = strictlyAfter(sql`${resolve(key.field).sql}`, values[i], key.direction);
    branches.push(and(...equalPrefix, beyond) ?? sql`true`);
  }
  return or(...branches) ?? sql`false`;
}

function equalTo(col: SQL, v: unknown): SQL {
  return v === null ? isNull(col) : sql`${col} = ${v}`;
}

function strictlyAfter(col: SQL, v: unknown, direction: "asc" | "desc"): SQL {
  if (direction === "asc") {
    // NULLs come last: after a value are the larger values and the NULLs; after NULL, nothing.
    return v === null ? sql`false` : (or(sql`${col} > ${v}`, isNull(col)) ?? sql`false`);
  }
  // Descending, NULLs first: after NULL come all values; after a value, the smaller ones.
  return v === null ? isNotNull(col) : sql`${col} < ${v}`;
}
