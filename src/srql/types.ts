/**
 * SRQL's two vocabularies: what a query may name (the entity catalogue, given to the parser by the
 * layer that knows the resources) and what a parsed query is (the AST, handed to the planner and
 * shown by `/query/explain`). The AST is plain JSON: timestamps are ISO strings.
 */

/** How a field's values are written in a query and compared. */
export type FieldType =
  "text" | "number" | "integer" | "boolean" | "timestamp" | "ip" | "uuid" | "enum" | "text_array";

export interface FieldSpec {
  readonly type: FieldType;
  /** `enum` fields: the values a query may name. */
  readonly values?: readonly string[];
  /** May appear in `sort:` (default true). */
  readonly sortable?: boolean;
  /** May appear after `by` in `stats:` and in `series:` (default: text, enum, boolean, ip, integer, uuid). */
  readonly groupable?: boolean;
}

export interface EntitySpec {
  /** The name written after `in:`. */
  readonly name: string;
  /** Other names for it (`gateways` for `pollers`). */
  readonly aliases?: readonly string[];
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Names a query may use for a field (`last_seen` → `last_seen_time`). */
  readonly fieldAliases?: Readonly<Record<string, string>>;
  /** The field `time:` applies to; none: the entity takes no time range. */
  readonly timeField?: string;
  /** Time series accept `bucket:`/`agg:`/`series:`; `valueField` is what `agg:` aggregates. */
  readonly timeSeries?: { readonly valueField: string };
}

export interface ParseOptions {
  readonly entities: readonly EntitySpec[];
  /** `limit:` when none is given (default 100). */
  readonly defaultLimit?: number;
  /** The largest `limit:` accepted (default 1,000). */
  readonly maxLimit?: number;
  /** What relative times (`last_24h`, `today`) count from (default: now). */
  readonly now?: Date;
}

export type Scalar = string | number | boolean;

interface FilterBase {
  readonly field: string;
  readonly negated: boolean;
  /** Offset of the filter's token in the query (0-based). */
  readonly position: number;
}

export type Filter =
  | (FilterBase & { readonly op: "eq" | "gt" | "gte" | "lt" | "lte"; readonly value: Scalar })
  /** SQL LIKE pattern (`%` any run, `_` one character), matched case-insensitively. */
  | (FilterBase & { readonly op: "like"; readonly pattern: string })
  | (FilterBase & { readonly op: "in"; readonly values: readonly Scalar[] })
  /** Array fields: the array holds this value (repeating the key: holds all of them). */
  | (FilterBase & { readonly op: "contains"; readonly value: string })
  /** Array fields with a list: the array holds at least one of them. */
  | (FilterBase & { readonly op: "overlaps"; readonly values: readonly string[] })
  | (FilterBase & { readonly op: "cidr"; readonly cidr: string })
  | (FilterBase & { readonly op: "ip_range"; readonly from: string; readonly to: string });

export type FilterOp = Filter["op"];

export interface TimeRange {
  readonly field: string;
  /** Inclusive. */
  readonly from?: string;
  /** Exclusive. */
  readonly to?: string;
  /** The query's own words for it (`last_24h`). */
  readonly token: string;
}

export interface SortKey {
  readonly field: string;
  readonly direction: "asc" | "desc";
}

export const AGGREGATE_FUNCTIONS = ["count", "sum", "avg", "min", "max"] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

export interface Aggregation {
  readonly fn: AggregateFunction;
  /** None for `count()`. */
  readonly field?: string;
  readonly alias: string;
}

export interface Stats {
  readonly aggregations: readonly Aggregation[];
  readonly groupBy: readonly string[];
}

export interface Series {
  readonly bucketSeconds: number;
  readonly agg: AggregateFunction;
  readonly valueField: string;
  /** One series per value of this field; none: a single series. */
  readonly groupBy?: string;
}

export interface SrqlQuery {
  readonly entity: string;
  readonly filters: readonly Filter[];
  readonly time?: TimeRange;
  readonly sort: readonly SortKey[];
  readonly limit: number;
  readonly stats?: Stats;
  readonly series?: Series;
}
