import type { PgTable } from "drizzle-orm/pg-core";
import type { Calculation, ResourceSpec } from "./types.js";

/** A declaration with its table type erased, so resources of different tables can sit in one list. */
export type ResourceDeclaration = ResourceSpec<PgTable>;

/**
 * Declares a resource. Only types are checked here (attribute names against the table's columns);
 * the declaration is verified as a whole, against the other resources it names, when the kernel
 * boots, so that a bad declaration fails start-up with a clear message instead of a request.
 */
export function defineResource<T extends PgTable>(spec: ResourceSpec<T>): ResourceDeclaration {
  // Calculations only ever see their own table: bind it now, which also erases the table type.
  const calculations: Record<string, Calculation<PgTable>> = {};
  for (const [name, calc] of Object.entries(spec.calculations ?? {})) {
    calculations[name] = { ...calc, sql: () => calc.sql(spec.table) };
  }
  // Erasing T widens column-name unions to string, which TypeScript cannot prove for a generic T (keyof
  // is not covariant). It is sound: the names were checked against T above, and boot re-verifies them.
  const erased: ResourceSpec<T> = { ...spec, calculations: calculations as Record<string, Calculation<T>> };
  return erased as unknown as ResourceDeclaration;
}
