import { getTableConfig, type PgColumn } from "drizzle-orm/pg-core";
import { SondeError } from "../../lib/errors.js";
import type { AnyResource } from "../resource/types.js";

/** Column SQL names of the unique index or constraint with this name, from the drizzle declaration. */
function constraintColumns(resource: AnyResource, constraint: string): string[] | undefined {
  const config = getTableConfig(resource.table);
  for (const index of config.indexes) {
    if (index.config.name === constraint) {
      return index.config.columns.flatMap((c) =>
        c && typeof c === "object" && "name" in c ? [(c as PgColumn).name] : [],
      );
    }
  }
  for (const uc of config.uniqueConstraints) {
    if (uc.getName() === constraint) return uc.columns.map((c) => c.name);
  }
  for (const column of config.columns) {
    if (
      column.isUnique &&
      (column.uniqueName === constraint || `${config.name}_${column.name}_unique` === constraint)
    ) {
      return [column.name];
    }
  }
  if (constraint === `${config.name}_pkey`) return config.columns.filter((c) => c.primary).map((c) => c.name);
  return undefined;
}

/**
 * PostgreSQL leaves the key out of a unique violation's detail when the table has row-level security
 * (it could reveal another tenant's values), so the offending attributes are found from the
 * constraint's name in the resource's own declaration. tenant_id is part of every tenant-scoped key
 * and is not the user's to change, so it is not named.
 */
export function describeUniqueViolation(resource: AnyResource, err: SondeError): SondeError {
  const constraint = typeof err.meta?.constraint === "string" ? err.meta.constraint : undefined;
  if (constraint === undefined) return err;
  const sqlNames = constraintColumns(resource, constraint);
  if (sqlNames === undefined) return err;
  const fields = [...resource.columns].filter(([, c]) => sqlNames.includes(c.name)).map(([field]) => field);
  if (fields.length === 0) return err;
  const first = fields[0] ?? "";
  return new SondeError(
    "SONDE_DB_UNIQUE_VIOLATION",
    `${fields.join(", ")} ${fields.length > 1 ? "are" : "is"} already taken`,
    { pointer: `/data/attributes/${first}`, meta: { field: first, fields, constraint }, cause: err.cause },
  );
}
