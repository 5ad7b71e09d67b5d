import { srqlError } from "./errors.js";
import { unquote, type Token } from "./lexer.js";
import {
  AGGREGATE_FUNCTIONS,
  type AggregateFunction,
  type Aggregation,
  type EntitySpec,
  type Stats,
} from "./types.js";

const ALIAS = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const AGGREGATE = /^([A-Za-z_]+)\s*\(\s*([A-Za-z_][A-Za-z0-9_.]*)?\s*\)(?:\s+as\s+(\S+))?$/i;

export interface FieldResolver {
  /** The declared name of a field the query names (aliases resolved), or undefined. */
  resolve(name: string): string | undefined;
  readonly entity: EntitySpec;
}

export function isGroupable(entity: EntitySpec, field: string): boolean {
  const spec = entity.fields[field];
  if (spec === undefined) return false;
  if (spec.groupable !== undefined) return spec.groupable;
  return ["text", "enum", "boolean", "ip", "integer", "uuid"].includes(spec.type);
}

export function isNumeric(entity: EntitySpec, field: string): boolean {
  const type = entity.fields[field]?.type;
  return type === "number" || type === "integer";
}

/**
 * `stats:"count() as total, avg(latency_ms) as latency by vendor_name, model"`: aggregations
 * separated by commas, each `fn(field?)` with an optional `as alias`, then optionally `by` and the
 * fields to group on.
 */
export function parseStats(token: Token, fields: FieldResolver): Stats {
  const text = unquote(token.value) ?? token.value;
  // Where the unquoted text starts in the query, to point into it.
  const base = token.valueStart + (text === token.value ? 0 : 1);
  const bad = (problem: string, at = base) => srqlError("SONDE_SRQL_INVALID_STATS", problem, token.text, at);
  const byMatch = /\s+by\s+/i.exec(text);
  const aggText = byMatch === null ? text : text.slice(0, byMatch.index);
  const groupText = byMatch === null ? undefined : text.slice(byMatch.index + byMatch[0].length);

  const aggregations: Aggregation[] = [];
  let offset = 0;
  for (const part of aggText.split(",")) {
    const at = base + offset + (part.length - part.trimStart().length);
    offset += part.length + 1;
    const m = AGGREGATE.exec(part.trim());
    if (m === null)
      throw bad(`"${part.trim()}" is not an aggregation such as count() or avg(field) as name`, at);
    const fn = (m[1] ?? "").toLowerCase();
    if (!(AGGREGATE_FUNCTIONS as readonly string[]).includes(fn)) {
      throw bad(`unknown function "${m[1]}" (use ${AGGREGATE_FUNCTIONS.join(", ")})`, at);
    }
    let field: string | undefined;
    if (m[2] !== undefined) {
      field = fields.resolve(m[2]);
      if (field === undefined) throw unknownField(token, at, m[2], fields.entity);
      if (fn !== "count" && !isNumeric(fields.entity, field)) {
        throw bad(`${fn}() needs a numeric field; ${m[2]} is not one`, at);
      }
    } else if (fn !== "count") {
      throw bad(`${fn}() needs a field`, at);
    }
    const alias = m[3] ?? (field === undefined ? fn : `${fn}_${field}`);
    if (!ALIAS.test(alias)) {
      throw bad(`invalid alias "${alias}" (a letter or _, then letters, digits or _)`, at);
    }
    if (aggregations.some((a) => a.alias === alias)) throw bad(`alias "${alias}" is used twice`, at);
    aggregations.push({ fn: fn as AggregateFunction, alias, ...(field === undefined ? {} : { field }) });
  }

  const groupBy: string[] = [];
  if (groupText !== undefined) {
    let groupOffset = base + (byMatch?.index ?? 0) + (byMatch?.[0].length ?? 0);
    for (const part of groupText.split(",")) {
      const name = part.trim();
      const at = groupOffset + (part.length - part.trimStart().length);
      groupOffset += part.length + 1;
      const field = name === "" ? undefined : fields.resolve(name);
      if (field === undefined || !isGroupable(fields.entity, field)) {
        const allowed = Object.keys(fields.entity.fields).filter((f) => isGroupable(fields.entity, f));
        throw srqlError(
          "SONDE_SRQL_INVALID_STATS",
          `cannot group ${fields.entity.name} by "${name}" (group by one of: ${allowed.join(", ")})`,
          token.text,
          at,
          { allowed },
        );
      }
      if (aggregations.some((a) => a.alias === field)) {
        throw bad(`alias "${field}" is also a group field`, at);
      }
      if (!groupBy.includes(field)) groupBy.push(field);
    }
  }
  return { aggregations, groupBy };
}

export function unknownField(token: Token, position: number, name: string, entity: EntitySpec) {
  const known = Object.keys(entity.fields);
  return srqlError(
    "SONDE_SRQL_UNKNOWN_FIELD",
    `${entity.name} has no field "${name}" (fields: ${known.join(", ")})`,
    token.text,
    position,
    { field: name, allowed: known },
  );
}
