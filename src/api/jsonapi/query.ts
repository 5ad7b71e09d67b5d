/**
 * The query string of a JSON:API request, parsed into the kernel's ListQuery plus the document
 * options (`include`, `fields`). Every refusal names the offending parameter (`source.parameter`),
 * and values are coerced with the field's type here, so that a malformed value is a 400 naming the
 * parameter rather than a database error.
 */
import { FILTER_OPS, type FieldCondition, type Filter, type FilterOp } from "../../kernel/filter.js";
import type { Kernel, ListQuery } from "../../kernel/kernel.js";
import { MAX_PAGE_SIZE } from "../../kernel/kernel.js";
import type { SortKey } from "../../kernel/pipeline/keyset.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { SondeError } from "../../lib/errors.js";
import { aggregateNames, type FieldType, fieldsetMembers, fieldType, queryableFields } from "./fields.js";

/** What the document should contain: included relationships and sparse fieldsets per type. */
export interface DocumentOptions {
  readonly include: readonly string[];
  /** JSON:API type → member names to show; a type without an entry shows every member. */
  readonly fields: ReadonlyMap<string, ReadonlySet<string>>;
  /** Aggregates of the primary resource to load (named in its sparse fieldset). */
  readonly aggregates: readonly string[];
}

export interface CollectionQuery extends DocumentOptions {
  readonly list: ListQuery;
}

/** Which parameter families a route reads; anything else is a 400, as JSON:API 1.0 requires. */
export type QueryShape = "collection" | "single" | "none";

type Raw = Readonly<Record<string, unknown>>;

function badParam(parameter: string, message: string): SondeError {
  return new SondeError("SONDE_BAD_REQUEST", message, { parameter });
}

/** One string per parameter: a repeated parameter is ambiguous, so it is refused. */
function single(raw: Raw, key: string): string {
  const v = raw[key];
  if (typeof v === "string") return v;
  throw badParam(key, `${key} is given more than once`);
}

const FAMILY = /^(filter|sort|page|include|fields)(?:\[|$)/;

export function parseQuery(
  kernel: Kernel,
  resource: AnyResource,
  raw: Raw,
  shape: "collection",
): CollectionQuery;
export function parseQuery(
  kernel: Kernel,
  resource: AnyResource,
  raw: Raw,
  shape: QueryShape,
): DocumentOptions;
export function parseQuery(
  kernel: Kernel,
  resource: AnyResource,
  raw: Raw,
  shape: QueryShape,
): CollectionQuery | DocumentOptions {
  const allowed =
    shape === "collection"
      ? new Set(["filter", "sort", "page", "include", "fields"])
      : shape === "single"
        ? new Set(["include", "fields"])
        : new Set<string>();
  for (const key of Object.keys(raw)) {
    const family = FAMILY.exec(key)?.[1];
    if (family === undefined) throw badParam(key, `unknown query parameter ${key}`);
    if (!allowed.has(family)) throw badParam(key, `${key} is not supported on this route`);
  }
  const fields = parseFields(kernel, raw);
  const include = parseInclude(resource, raw);
  const own = fields.get(resource.type);
  const aggregates = own === undefined ? [] : aggregateNames(resource).filter((a) => own.has(a));
  const options: DocumentOptions = { include, fields, aggregates };
  if (shape !== "collection") return options;
  const filter = parseFilter(kernel, resource, raw);
  const sort = parseSort(resource, raw);
  const page = parsePage(raw);
  const list: ListQuery = {
    ...(filter === true ? {} : { filter }),
    ...(sort.length > 0 ? { sort } : {}),
    page,
    aggregates,
  };
  return { ...options, list };
}

function parseInclude(resource: AnyResource, raw: Raw): string[] {
  if (raw.include === undefined) return [];
  const text = single(raw, "include");
  if (text === "") return [];
  const names = text.split(",");
  for (const name of names) {
    if (name.includes(".")) {
      throw badParam("include", `nested include paths are not supported (${name}); include one level`);
    }
    if (resource.spec.relationships?.[name] === undefined) {
      throw badParam("include", `${resource.type} has no relationship ${name}`);
    }
  }
  return [...new Set(names)];
}

const BRACKETED = /^(\w+)\[([^\]]*)\](?:\[([^\]]*)\])?$/;

function parseFields(kernel: Kernel, raw: Raw): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const key of Object.keys(raw)) {
    if (!key.startsWith("fields")) continue;
    const m = BRACKETED.exec(key);
    if (m === null || m[1] !== "fields" || m[3] !== undefined || m[2] === undefined || m[2] === "") {
      throw badParam(key, "sparse fieldsets are written fields[type]=a,b");
    }
    const type = m[2];
    let target: AnyResource;
    try {
      target = kernel.resource(type);
    } catch {
      throw badParam(key, `unknown type ${type}`);
    }
    if (target.type !== type) throw badParam(key, `unknown type ${type}; did you mean ${target.type}?`);
    const text = single(raw, key);
    const names = text === "" ? [] : text.split(",");
    const members = fieldsetMembers(target);
    for (const n of names) {
      if (!members.has(n)) throw badParam(key, `${type} has no field ${n}`);
    }
    out.set(type, new Set(names));
  }
  return out;
}

function parseSort(resource: AnyResource, raw: Raw): SortKey[] {
  if (raw.sort === undefined) return [];
  const text = single(raw, "sort");
  const known = queryableFields(resource);
  const keys: SortKey[] = [];
  for (const part of text.split(",")) {
    const descending = part.startsWith("-");
    const written = descending ? part.slice(1) : part;
    if (written === "") throw badParam("sort", "sort names an empty field");
    // `id` is the document's name for the primary key, whatever the attribute is called.
    const field = written === "id" ? resource.primaryKey : written;
    if (!known.has(field) && field !== resource.primaryKey) {
      throw badParam("sort", `${resource.type} cannot be sorted by ${written}`);
    }
    if (resource.arrayAttributes.has(field))
      throw badParam("sort", `${written} is a list and cannot be sorted by`);
    keys.push({
      field,
      direction: descending ? "desc" : "asc",
    });
  }
  return keys;
}

function positiveInt(param: string, text: string, max?: number): number {
  if (!/^\d+$/.test(text)) throw badParam(param, `${param} must be a positive integer`);
  const n = Number(text);
  if (n < 1 || (max !== undefined && n > max)) {
    throw badParam(param, `${param} must be between 1 and ${max ?? Number.MAX_SAFE_INTEGER}`);
  }
  return n;
}

function parsePage(raw: Raw): { size?: number; after?: string; number?: number } {
  const page: { size?: number; after?: string; number?: number } = {};
  for (const key of Object.keys(raw)) {
    if (!key.startsWith("page")) continue;
    const value = single(raw, key);
    if (key === "page[size]") page.size = positiveInt(key, value, MAX_PAGE_SIZE);
    else if (key === "page[number]") page.number = positiveInt(key, value);
    else if (key === "page[after]") {
      if (value === "") throw badParam(key, "page[after] is empty");
      page.after = value;
    } else
      throw badParam(key, `unknown pagination parameter ${key}; use page[size], page[after] or page[number]`);
  }
  if (page.after !== undefined && page.number !== undefined) {
    throw badParam("page[number]", "page[number] and page[after] cannot be combined");
  }
  return page;
}

function parseFilter(kernel: Kernel, resource: AnyResource, raw: Raw): Filter {
  const known = queryableFields(resource);
  const conditions: Filter[] = [];
  for (const key of Object.keys(raw)) {
    if (!key.startsWith("filter")) continue;
    const m = BRACKETED.exec(key);
    if (m === null || m[1] !== "filter" || m[2] === undefined || m[2] === "") {
      throw badParam(key, "filters are written filter[field]=value or filter[field][op]=value");
    }
    const field = m[2] === "id" ? resource.primaryKey : m[2];
    const type = fieldType(kernel, resource, field);
    if ((!known.has(field) && field !== resource.primaryKey) || type === undefined) {
      throw badParam(key, `${resource.type} cannot be filtered by ${m[2]}`);
    }
    const opText = m[3] ?? "eq";
    if (!(FILTER_OPS as readonly string[]).includes(opText)) {
      throw badParam(key, `unknown filter operator ${opText}; use one of ${FILTER_OPS.join(", ")}`);
    }
    conditions.push(condition(key, field, opText as FilterOp, type, single(raw, key)));
  }
  if (conditions.length === 0) return true;
  return conditions.length === 1 ? (conditions[0] ?? true) : { and: conditions };
}

function condition(
  param: string,
  field: string,
  op: FilterOp,
  type: FieldType,
  text: string,
): FieldCondition {
  const refuse = (why: string) => badParam(param, `${field}: ${why}`);
  switch (op) {
    case "is_null":
      if (text !== "true" && text !== "false") throw refuse("is_null takes true or false");
      return { field, op, value: text === "true" };
    case "contains":
      if (type.array) return { field, op, value: coerceScalar(param, field, type.kind, text) };
      if (type.kind !== "string") throw refuse("contains applies to text and to lists");
      return { field, op, value: text };
    case "like":
      if (type.array || type.kind !== "string") throw refuse("like applies to text");
      return { field, op, value: text };
    case "in": {
      if (type.array) throw refuse("in does not apply to lists; use contains");
      // Dates and booleans travel as their validated text: the filter language's lists hold strings and
      // numbers, and the database casts the text against the column's type.
      const values = text.split(",").map((part) => {
        const v = coerceScalar(param, field, type.kind, part);
        return v instanceof Date ? v.toISOString() : typeof v === "boolean" ? String(v) : v;
      });
      return { field, op, value: values };
    }
    case "eq":
    case "ne":
    case "gt":
    case "gte":
    case "lt":
    case "lte":
      if (type.array) throw refuse(`${op} does not apply to lists; use contains`);
      if (op !== "eq" && op !== "ne" && type.kind === "boolean")
        throw refuse(`${op} does not apply to booleans`);
      return { field, op, value: coerceScalar(param, field, type.kind, text) };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function coerceScalar(
  param: string,
  field: string,
  kind: FieldType["kind"],
  text: string,
): string | number | boolean | Date {
  const refuse = (what: string) => badParam(param, `${field}: ${JSON.stringify(text)} is not ${what}`);
  switch (kind) {
    case "uuid":
      if (!UUID.test(text)) throw refuse("a UUID");
      return text;
    case "integer": {
      const n = Number(text);
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n)) throw refuse("an integer");
      return n;
    }
    case "number": {
      const n = Number(text);
      if (text.trim() === "" || !Number.isFinite(n)) throw refuse("a number");
      return n;
    }
    case "boolean":
      if (text !== "true" && text !== "false") throw refuse("true or false");
      return text === "true";
    case "date": {
      const d = new Date(text);
      if (text.trim() === "" || Number.isNaN(d.getTime())) throw refuse("a date (ISO 8601)");
      return d;
    }
    case "string":
    case "unknown":
      return text;
  }
}
