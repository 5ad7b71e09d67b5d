import { srqlError } from "./errors.js";
import { parseCidr, parseIpRange } from "./ip.js";
import { splitList, type Token, tokenize, unquote } from "./lexer.js";
import { type FieldResolver, isGroupable, isNumeric, parseStats, unknownField } from "./stats.js";
import { parseBucket, parseTimeRange } from "./time.js";
import {
  AGGREGATE_FUNCTIONS,
  type AggregateFunction,
  type EntitySpec,
  type FieldSpec,
  type Filter,
  type ParseOptions,
  type Series,
  type SortKey,
  type SrqlQuery,
  type Stats,
  type TimeRange,
} from "./types.js";
import { scalarFor } from "./values.js";

export const DEFAULT_LIMIT = 100;
export const DEFAULT_MAX_LIMIT = 1000;
/** Values in one `field:(a,b,…)` list. */
export const MAX_LIST_VALUES = 200;

/** Keys that shape the query rather than filter it. */
const CONTROL_KEYS = new Set([
  "in",
  "time",
  "timeframe",
  "sort",
  "limit",
  "stats",
  "bucket",
  "agg",
  "series",
]);
const COMPARISON = /^(>=|<=|>|<)/;
const COMPARISON_OPS = { ">": "gt", ">=": "gte", "<": "lt", "<=": "lte" } as const;

/**
 * Parses an SRQL query against the entities the caller may query, to a typed AST: every field is
 * checked against the entity's declaration and every value against the field's type, so the planner
 * only ever sees valid, typed conditions. Raises a SONDE_SRQL_* error naming the offending token and
 * its position; never returns a partial query.
 */
export function parseSrql(query: string, opts: ParseOptions): SrqlQuery {
  const tokens = tokenize(query);
  const entity = entityOf(query, tokens, opts.entities);
  const resolver: FieldResolver = {
    entity,
    resolve: (name) => {
      const lower = name.toLowerCase();
      const field = entity.fieldAliases?.[lower] ?? lower;
      return entity.fields[field] === undefined ? undefined : field;
    },
  };
  const maxLimit = opts.maxLimit ?? DEFAULT_MAX_LIMIT;
  const filters: Filter[] = [];
  let time: TimeRange | undefined;
  let sortToken: Token | undefined;
  let limit: number | undefined;
  let stats: Stats | undefined;
  const seriesTokens: Partial<Record<"bucket" | "agg" | "series", Token>> = {};
  const seen = new Set<string>();

  for (const token of tokens) {
    if (token.key === "in") continue;
    if (CONTROL_KEYS.has(token.key)) {
      const control = token.key === "timeframe" ? "time" : token.key;
      if (token.negated) {
        throw srqlError("SONDE_SRQL_SYNTAX", `"${control}:" cannot be negated`, token.text, token.start);
      }
      if (seen.has(control)) {
        throw srqlError("SONDE_SRQL_SYNTAX", `"${control}:" is given twice`, token.text, token.start);
      }
      seen.add(control);
      switch (control) {
        case "time":
          time = timeOf(token, entity, opts.now ?? new Date());
          break;
        case "sort":
          sortToken = token;
          break;
        case "limit":
          limit = limitOf(token, maxLimit);
          break;
        case "stats":
          stats = parseStats(token, resolver);
          break;
        case "bucket":
        case "agg":
        case "series":
          seriesTokens[control] = token;
          break;
      }
      continue;
    }
    filters.push(filterOf(token, resolver));
  }

  const series = seriesOf(seriesTokens, entity, resolver);
  if (series !== undefined && stats !== undefined) {
    const t = seriesTokens.bucket as Token;
    throw srqlError("SONDE_SRQL_UNSUPPORTED", "use either stats: or bucket:, not both", t.text, t.start);
  }
  const sort = sortToken === undefined ? [] : sortOf(sortToken, resolver, stats);
  return {
    entity: entity.name,
    filters,
    ...(time === undefined ? {} : { time }),
    sort,
    limit: limit ?? Math.min(opts.defaultLimit ?? DEFAULT_LIMIT, maxLimit),
    ...(stats === undefined ? {} : { stats }),
    ...(series === undefined ? {} : { series }),
  };
}

function entityOf(query: string, tokens: readonly Token[], entities: readonly EntitySpec[]): EntitySpec {
  const names = entities.map((e) => e.name);
  const ins = tokens.filter((t) => t.key === "in");
  const first = ins[0];
  if (first === undefined) {
    throw srqlError(
      "SONDE_SRQL_MISSING_ENTITY",
      `a query starts with in:<entity> (one of ${names.join(", ")})`,
      query.trim().split(/\s+/)[0] ?? "",
      Math.max(0, query.length - query.trimStart().length),
      { allowed: names },
    );
  }
  const second = ins[1];
  if (second !== undefined) {
    throw srqlError("SONDE_SRQL_SYNTAX", '"in:" is given twice', second.text, second.start);
  }
  if (first.negated) throw srqlError("SONDE_SRQL_SYNTAX", '"in:" cannot be negated', first.text, first.start);
  const name = (unquote(first.value) ?? first.value).toLowerCase();
  const entity = entities.find((e) => e.name === name || (e.aliases ?? []).includes(name));
  if (entity === undefined) {
    throw srqlError(
      "SONDE_SRQL_UNKNOWN_ENTITY",
      `unknown entity "${name}" (one of ${names.join(", ")})`,
      first.text,
      first.valueStart,
      { allowed: names },
    );
  }
  return entity;
}

function timeOf(token: Token, entity: EntitySpec, now: Date): TimeRange {
  if (entity.timeField === undefined) {
    throw srqlError(
      "SONDE_SRQL_UNSUPPORTED",
      `${entity.name} has no time field to apply a time range to`,
      token.text,
      token.start,
    );
  }
  return { field: entity.timeField, ...parseTimeRange(token, now), token: token.value };
}

function limitOf(token: Token, max: number): number {
  const text = unquote(token.value) ?? token.value;
  const n = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw srqlError(
      "SONDE_SRQL_INVALID_LIMIT",
      `limit is a whole number from 1 to ${max}`,
      token.text,
      token.valueStart,
      { max },
    );
  }
  return n;
}

/** `sort:last_seen:desc,hostname` — direction desc unless given; with stats, aliases and group fields. */
function sortOf(token: Token, fields: FieldResolver, stats: Stats | undefined): SortKey[] {
  const keys: SortKey[] = [];
  let offset = token.valueStart;
  for (const part of token.value.split(",")) {
    const at = offset;
    offset += part.length + 1;
    const [rawField = "", rawDir, ...rest] = part.split(":");
    const dir = (rawDir ?? "desc").toLowerCase();
    if (rawField === "" || rest.length > 0 || (dir !== "asc" && dir !== "desc")) {
      throw srqlError("SONDE_SRQL_INVALID_SORT", `"${part}" is not field or field:asc|desc`, token.text, at);
    }
    let field: string | undefined;
    if (stats !== undefined) {
      const lower = rawField.toLowerCase();
      const alias = stats.aggregations.find((a) => a.alias.toLowerCase() === lower)?.alias;
      const group = fields.resolve(rawField);
      field = alias ?? (group !== undefined && stats.groupBy.includes(group) ? group : undefined);
      if (field === undefined) {
        const allowed = [...stats.aggregations.map((a) => a.alias), ...stats.groupBy];
        throw srqlError(
          "SONDE_SRQL_INVALID_SORT",
          `a stats query sorts by its aliases or group fields (${allowed.join(", ")}), not "${rawField}"`,
          token.text,
          at,
          { allowed },
        );
      }
    } else {
      field = fields.resolve(rawField);
      if (field === undefined) throw unknownField(token, at, rawField, fields.entity);
      if (fields.entity.fields[field]?.sortable === false) {
        throw srqlError("SONDE_SRQL_INVALID_SORT", `${rawField} cannot be sorted on`, token.text, at);
      }
    }
    if (keys.some((k) => k.field === field)) {
      throw srqlError("SONDE_SRQL_INVALID_SORT", `${rawField} is sorted on twice`, token.text, at);
    }
    keys.push({ field, direction: dir });
  }
  return keys;
}

function seriesOf(
  tokens: Partial<Record<"bucket" | "agg" | "series", Token>>,
  entity: EntitySpec,
  fields: FieldResolver,
): Series | undefined {
  const { bucket, agg, series } = tokens;
  if (bucket === undefined) {
    const stray = agg ?? series;
    if (stray !== undefined) {
      throw srqlError("SONDE_SRQL_INVALID_BUCKET", `"${stray.key}:" needs bucket:`, stray.text, stray.start);
    }
    return undefined;
  }
  if (entity.timeSeries === undefined) {
    throw srqlError(
      "SONDE_SRQL_UNSUPPORTED",
      `${entity.name} is not a time series (bucket: applies to time series only)`,
      bucket.text,
      bucket.start,
    );
  }
  const bucketSeconds = parseBucket(bucket);
  let fn: AggregateFunction = "avg";
  if (agg !== undefined) {
    const name = agg.value.toLowerCase();
    if (!(AGGREGATE_FUNCTIONS as readonly string[]).includes(name)) {
      throw srqlError(
        "SONDE_SRQL_INVALID_BUCKET",
        `agg is one of ${AGGREGATE_FUNCTIONS.join(", ")}`,
        agg.text,
        agg.valueStart,
      );
    }
    fn = name as AggregateFunction;
  }
  let groupBy: string | undefined;
  if (series !== undefined) {
    groupBy = fields.resolve(series.value);
    if (groupBy === undefined) throw unknownField(series, series.valueStart, series.value, entity);
    if (!isGroupable(entity, groupBy)) {
      throw srqlError(
        "SONDE_SRQL_INVALID_BUCKET",
        `series splits by a field such as an id or a name; ${series.value} is not one`,
        series.text,
        series.valueStart,
      );
    }
  }
  const valueField = entity.timeSeries.valueField;
  if (fn !== "count" && !isNumeric(entity, valueField)) {
    throw srqlError("SONDE_SRQL_INVALID_BUCKET", `${valueField} is not numeric`, bucket.text, bucket.start);
  }
  return { bucketSeconds, agg: fn, valueField, ...(groupBy === undefined ? {} : { groupBy }) };
}

/** One `field:value` token → a typed condition. */
function filterOf(token: Token, fields: FieldResolver): Filter {
  const entity = fields.entity;
  const field = fields.resolve(token.key);
  if (field === undefined) throw unknownField(token, token.start, token.key, entity);
  const spec = entity.fields[field] as FieldSpec;
  const base = { field, negated: token.negated, position: token.start };
  const ctx = { field: token.key, token: token.text, position: token.valueStart };
  const value = token.value;

  const list = splitList(value);
  if (list !== undefined) {
    if (list.items.length > MAX_LIST_VALUES) {
      throw srqlError(
        "SONDE_SRQL_INVALID_VALUE",
        `a list holds at most ${MAX_LIST_VALUES} values`,
        token.text,
        token.valueStart,
      );
    }
    const values = list.items.map((item) => {
      if (item.text === "" && !item.quoted) {
        throw srqlError(
          "SONDE_SRQL_INVALID_VALUE",
          "empty value in list",
          token.text,
          token.valueStart + item.offset,
        );
      }
      return scalarFor(spec, item.text, { ...ctx, position: token.valueStart + item.offset });
    });
    if (spec.type === "text_array") return { ...base, op: "overlaps", values: values.map(String) };
    return { ...base, op: "in", values };
  }

  const quoted = unquote(value);
  if (quoted !== undefined) return literal(spec, quoted, base, ctx);

  const comparison = COMPARISON.exec(value);
  if (comparison !== null) {
    const sign = comparison[1] as keyof typeof COMPARISON_OPS;
    if (!["number", "integer", "timestamp"].includes(spec.type)) {
      throw srqlError(
        "SONDE_SRQL_UNSUPPORTED",
        `${token.key} cannot be compared with ${sign} (numbers and times only)`,
        token.text,
        token.valueStart,
      );
    }
    const rest = value.slice(sign.length);
    const text = unquote(rest) ?? rest;
    const position = token.valueStart + sign.length;
    return { ...base, op: COMPARISON_OPS[sign], value: scalarFor(spec, text, { ...ctx, position }) };
  }

  if (spec.type === "ip" && !value.includes("%")) {
    if (value.includes("/")) {
      const cidr = parseCidr(value);
      if (cidr === undefined) {
        throw srqlError(
          "SONDE_SRQL_INVALID_VALUE",
          `${token.key} takes a CIDR such as 10.0.0.0/8`,
          token.text,
          token.valueStart,
        );
      }
      return { ...base, op: "cidr", cidr: `${cidr.address}/${cidr.prefix}` };
    }
    if (value.includes("-")) {
      const range = parseIpRange(value);
      if (range === undefined || range === "reversed") {
        throw srqlError(
          "SONDE_SRQL_INVALID_VALUE",
          range === "reversed"
            ? "an address range goes from the lower address to the higher"
            : `${token.key} takes a range such as 10.0.0.10-10.0.0.50`,
          token.text,
          token.valueStart,
        );
      }
      return { ...base, op: "ip_range", from: range.from, to: range.to };
    }
  }
  return literal(spec, value, base, ctx);
}

/** A plain value: a LIKE pattern when it has `%` (text and addresses), else equality (or containment). */
function literal(
  spec: FieldSpec,
  text: string,
  base: { field: string; negated: boolean; position: number },
  ctx: { field: string; token: string; position: number },
): Filter {
  if (text.includes("%") && (spec.type === "text" || spec.type === "ip")) {
    return { ...base, op: "like", pattern: text };
  }
  if (spec.type === "text_array") return { ...base, op: "contains", value: text };
  return { ...base, op: "eq", value: scalarFor(spec, text, ctx) };
}
