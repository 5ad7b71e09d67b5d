import type { PgColumn } from "drizzle-orm/pg-core";
import { z } from "zod";
import { SondeError } from "../../lib/errors.js";
import type { ActionSpec, AnyResource } from "../resource/types.js";

// Columns are declared once and never change, so each column's schema is built once.
const schemas = new WeakMap<PgColumn, z.ZodType>();

/** A zod schema for one column, derived from its SQL type (an attribute's `schema` option wins). */
export function columnSchema(column: PgColumn): z.ZodType {
  let schema = schemas.get(column);
  if (schema === undefined) {
    schema = buildColumnSchema(column);
    schemas.set(column, schema);
  }
  return schema;
}

function buildColumnSchema(column: PgColumn): z.ZodType {
  const sqlType = column.getSQLType();
  const base = (t: string): z.ZodType => {
    if (t === "uuid") return z.uuid();
    if (t === "text" || t.startsWith("varchar") || t.startsWith("character")) return z.string();
    if (t === "integer" || t === "smallint" || t === "bigint" || t === "serial" || t === "bigserial")
      return z.number().int();
    if (t === "boolean") return z.boolean();
    if (t.startsWith("numeric") || t === "real" || t === "double precision") return z.number();
    if (t.startsWith("timestamp") || t === "date") return z.coerce.date();
    if (t === "inet" || t === "cidr" || t === "macaddr") return z.string();
    return z.unknown();
  };
  const schema = sqlType.endsWith("[]") ? z.array(base(sqlType.slice(0, -2))) : base(sqlType);
  return column.notNull ? schema : schema.nullable();
}

export interface ValidatedInput {
  readonly values: Record<string, unknown>;
  readonly args: Record<string, unknown>;
}

/**
 * Validates an action's input: only accepted attributes (anything else is named and refused), each
 * against its column schema; arguments against the action's zod object. Errors point into the JSON:API
 * document (`/data/attributes/<name>`), which is where transports take their input from.
 */
export function validateInput(
  resource: AnyResource,
  action: ActionSpec<AnyResource["table"]> & { name: string },
  input: Readonly<Record<string, unknown>>,
  args: Readonly<Record<string, unknown>>,
): ValidatedInput {
  const accepted = new Set<string>(action.accept ?? []);
  const values: Record<string, unknown> = {};
  for (const [field, raw] of Object.entries(input)) {
    if (!accepted.has(field)) {
      const known = resource.columns.has(field);
      throw new SondeError(
        "SONDE_VALIDATION_FAILED",
        known
          ? `${field} cannot be set by the ${action.name} action`
          : `${field} is not an attribute of ${resource.name}`,
        { pointer: `/data/attributes/${field}`, meta: { field } },
      );
    }
    const column = resource.columns.get(field);
    if (column === undefined) continue;
    const opts = resource.spec.attributes?.[field as never] as { schema?: z.ZodType } | undefined;
    const parsed = (opts?.schema ?? columnSchema(column)).safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SondeError("SONDE_VALIDATION_FAILED", `${field}: ${issue?.message ?? "invalid value"}`, {
        pointer: `/data/attributes/${field}`,
        meta: { field },
      });
    }
    values[field] = parsed.data;
  }
  let parsedArgs: Record<string, unknown> = {};
  if (action.arguments !== undefined) {
    const res = action.arguments.safeParse(args);
    if (!res.success) {
      const issue = res.error.issues[0];
      const field = String(issue?.path[0] ?? "arguments");
      throw new SondeError("SONDE_VALIDATION_FAILED", `${field}: ${issue?.message ?? "invalid argument"}`, {
        pointer: `/meta/arguments/${field}`,
        meta: { field },
      });
    }
    parsedArgs = res.data as Record<string, unknown>;
  } else if (Object.keys(args).length > 0) {
    const field = Object.keys(args)[0] ?? "";
    throw new SondeError("SONDE_VALIDATION_FAILED", `the ${action.name} action takes no argument ${field}`, {
      pointer: `/meta/arguments/${field}`,
      meta: { field },
    });
  }
  return { values, args: parsedArgs };
}

/** Create: every not-null column without a default must have a value by now. */
export function assertRequired(
  resource: AnyResource,
  values: Readonly<Record<string, unknown>>,
  required: readonly string[],
): void {
  for (const [field, column] of resource.columns) {
    const missing = values[field] === undefined || values[field] === null;
    const mustHave = (column.notNull && !column.hasDefault) || required.includes(field);
    if (mustHave && missing) {
      throw new SondeError("SONDE_VALIDATION_FAILED", `${field} is required`, {
        pointer: `/data/attributes/${field}`,
        meta: { field },
      });
    }
  }
}
