import type { PgColumn } from "drizzle-orm/pg-core";
import { SondeError } from "../../lib/errors.js";
import type { AnyResource } from "../resource/types.js";
import { columnSchema } from "./input.js";

/** A resource's column by attribute name, or its tenant_id column by its key. */
export function columnOf(resource: AnyResource, field: string): PgColumn {
  const c = resource.columns.get(field) ?? (field === resource.tenantKey ? resource.tenantColumn : undefined);
  if (c === undefined) throw new SondeError("SONDE_INTERNAL", `${resource.name} has no column ${field}`);
  return c;
}

export function pkColumn(resource: AnyResource): PgColumn {
  return columnOf(resource, resource.primaryKey);
}

/** Ids arrive as strings (URLs, documents); integer keys must at least look like integers. */
export function validId(resource: AnyResource, id: string): boolean {
  const schema = columnSchema(pkColumn(resource));
  return schema.safeParse(id).success || (/^\d{1,18}$/.test(id) && schema.safeParse(Number(id)).success);
}
