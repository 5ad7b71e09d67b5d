import { describe, expect, it } from "vitest";
import { isSondeError, type SondeError } from "../../src/lib/errors.js";
import { parseSrql } from "../../src/srql/parse.js";
import type { EntitySpec, ParseOptions } from "../../src/srql/types.js";

const devices: EntitySpec = {
  name: "devices",
  fields: {
    uid: { type: "text" },
    hostname: { type: "text" },
    ip: { type: "ip" },
    vendor_name: { type: "text" },
    partition: { type: "text" },
    is_available: { type: "boolean" },
    type_id: { type: "integer" },
    risk_level: { type: "enum", values: ["low", "medium", "high", "critical"] },
    last_seen_time: { type: "timestamp" },
    discovery_sources: { type: "text_array", sortable: false },
    metadata: { type: "text", sortable: false, groupable: false },
    group_id: { type: "uuid" },
  },
  fieldAliases: { last_seen: "last_seen_time" },
  timeField: "last_seen_time",
};
const checkResults: EntitySpec = {
  name: "check_results",
  fields: {
    check_id: { type: "uuid" },
    time: { type: "timestamp" },
    available: { type: "boolean" },
    response_time_ms: { type: "number" },
    partition: { type: "text" },
  },
  timeField: "time",
  timeSeries: { valueField: "response_time_ms" },
};
const pollers: EntitySpec = {
  name: "pollers",
  aliases: ["gateways"],
  fields: { component_id: { type: "text" }, status: { type: "text" } },
};

const NOW = new Date("2026-12-02T10:30:00.000Z");
const OPTIONS: ParseOptions = { entities: [devices, checkResults, pollers], now: NOW, maxLimit: 500 };
const parse = (q: string, opts: Partial<ParseOptions> = {}) => parseSrql(q, { ...OPTIONS, ...opts });

function failure(q: string): SondeError {
  try {
    parse(q);
  } catch (err) {
    if (isSondeError(err)) return err;
    throw err;
  }
  throw new Error(`expected "${q}" to fail`);
}

describe("SRQL tokens", () => {
  it("splits on whitespace but not inside quotes or brackets; keys are case-insensitive", () => {
    const q = parse(`IN:devices  Hostname:"core sw 1"\tvendor_name:'Ac me' partition:(a, "b c")`);
    expect(q.entity).toBe("devices");
    expect(q.filters).toEqual([
      { field: "hostname", negated: false, position: 12, op: "eq", value: "core sw 1" },
      { field: "vendor_name", negated: false, position: 33, op: "eq", value: "Ac me" },
      { field: "partition", negated: false, position: 53, op: "in", values: ["a", "b c"] },
    ]);
  });

  it("resolves escapes inside quotes", () => {
    const q = parse(String.raw`in:devices hostname:"say \"hi\" \\ there"`);
    expect(q.filters[0]).toMatchObject({ op: "eq", value: String.raw`say "hi" \ there` });
  });

  it("finds the entity wherever in:, and by alias", () => {
    expect(parse("hostname:a in:devices").entity).toBe("devices");
    expect(parse("in:GATEWAYS").entity).toBe("pollers");
  });
});

describe("SRQL filters", () => {
  it("equality, LIKE with %, and negation", () => {
    const q = parse("in:devices hostname:core-% !vendor_name:Cisco !hostname:%lab%");
    expect(q.filters.map(({ position: _p, ...f }) => f)).toEqual([
      { field: "hostname", negated: false, op: "like", pattern: "core-%" },
      { field: "vendor_name", negated: true, op: "eq", value: "Cisco" },
      { field: "hostname", negated: true, op: "like", pattern: "%lab%" },
    ]);
  });

  it("comparisons on numbers and times; two of them make a range", () => {
    const q = parse("in:devices type_id:>=10 type_id:<13 last_seen:>2026-11-01T00:00:00+01:00");
    expect(q.filters.map((f) => [f.field, f.op, "value" in f ? f.value : undefined])).toEqual([
      ["type_id", "gte", 10],
      ["type_id", "lt", 13],
      ["last_seen_time", "gt", "2026-10-31T23:00:00.000Z"],
    ]);
    expect(parse("in:check_results response_time_ms:<=2.5").filters[0]).toMatchObject({
      op: "lte",
      value: 2.5,
    });
  });

  it("lists in parentheses or brackets are IN, typed per field", () => {
    expect(parse("in:devices type_id:[10,12]").filters[0]).toMatchObject({ op: "in", values: [10, 12] });
    expect(parse("in:devices risk_level:(HIGH,critical)").filters[0]).toMatchObject({
      op: "in",
      values: ["high", "critical"],
    });
  });

  it("array fields: a value is containment, repeated keys AND (contains all), a list overlaps", () => {
    const q = parse("in:devices discovery_sources:armis discovery_sources:netbox discovery_sources:(a,b)");
    expect(q.filters.map((f) => f.op)).toEqual(["contains", "contains", "overlaps"]);
    expect(q.filters[1]).toMatchObject({ value: "netbox" });
    expect(q.filters[2]).toMatchObject({ values: ["a", "b"] });
  });

  it("ip: an address, a CIDR, a range, a LIKE pattern", () => {
    const q = parse("in:devices ip:10.0.0.1 ip:10.0.0.0/8 ip:10.0.0.10-10.0.0.50 ip:10.1.% ip:fd00::/8");
    expect(q.filters.map(({ position: _p, field: _f, negated: _n, ...f }) => f)).toEqual([
      { op: "eq", value: "10.0.0.1" },
      { op: "cidr", cidr: "10.0.0.0/8" },
      { op: "ip_range", from: "10.0.0.10", to: "10.0.0.50" },
      { op: "like", pattern: "10.1.%" },
      { op: "cidr", cidr: "fd00::/8" },
    ]);
    expect(parse("in:devices ip:fd00::1-fd00::ff").filters[0]).toMatchObject({ op: "ip_range" });
  });

  it("booleans, UUIDs and field aliases", () => {
    const q = parse(
      "in:devices is_available:FALSE group_id:0AF1C2D3-0000-4000-8000-000000000001 last_seen:2026-12-01",
    );
    expect(q.filters.map((f) => ("value" in f ? f.value : undefined))).toEqual([
      false,
      "0af1c2d3-0000-4000-8000-000000000001",
      "2026-12-01T00:00:00.000Z",
    ]);
    expect(q.filters[2]?.field).toBe("last_seen_time");
  });
});

describe("SRQL time ranges", () => {
  const range = (t: string, entity = "devices") => {
    const q = parse(`in:${entity} time:${t}`);
    return q.time === undefined ? undefined : { from: q.time.from, to: q.time.to, field: q.time.field };
  };

  it("relative windows in every spelling", () => {
    expect(range("last_30m")).toEqual({
      from: "2026-12-02T10:00:00.000Z",
      to: undefined,
      field: "last_seen_time",
    });
    expect(range("last_24h")?.from).toBe("2026-12-01T10:30:00.000Z");
    expect(range("last_7d")?.from).toBe("2026-11-25T10:30:00.000Z");
    expect(range("7d")?.from).toBe("2026-11-25T10:30:00.000Z");
    expect(range('"14 Days"')?.from).toBe("2026-11-18T10:30:00.000Z");
    expect(range("'2 hours'")?.from).toBe("2026-12-02T08:30:00.000Z");
    expect(parse("in:devices timeFrame:1w").time?.from).toBe("2026-11-25T10:30:00.000Z");
  });

  it("today and yesterday in UTC; the entity's time field", () => {
    expect(range("today")).toEqual({
      from: "2026-12-02T00:00:00.000Z",
      to: undefined,
      field: "last_seen_time",
    });
    expect(range("yesterday", "check_results")).toEqual({
      from: "2026-12-01T00:00:00.000Z",
      to: "2026-12-02T00:00:00.000Z",
      field: "time",
    });
  });

  it("absolute ranges, either side open", () => {
    expect(range("[2026-11-01T00:00:00Z,2026-11-02T00:00:00Z]")).toMatchObject({
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-02T00:00:00.000Z",
    });
    expect(range("[2026-11-01T00:00:00Z,]")).toEqual({
      from: "2026-11-01T00:00:00.000Z",
      to: undefined,
      field: "last_seen_time",
    });
    expect(range("[,2026-11-01T00:00:00Z]")?.to).toBe("2026-11-01T00:00:00.000Z");
  });
});

describe("SRQL sort, limit, stats and series", () => {
  it("sort with default desc direction, limit with default and maximum", () => {
    const q = parse("in:devices sort:last_seen:desc,hostname,type_id:ASC limit:50");
    expect(q.sort).toEqual([
      { field: "last_seen_time", direction: "desc" },
      { field: "hostname", direction: "desc" },
      { field: "type_id", direction: "asc" },
    ]);
    expect(q.limit).toBe(50);
    expect(parse("in:devices").limit).toBe(100);
    expect(parse("in:devices", { defaultLimit: 20 }).limit).toBe(20);
    expect(parse("in:devices limit:500").limit).toBe(500);
  });

  it("stats with several aggregations, aliases and groups", () => {
    const q = parse(
      `in:check_results stats:"count() as total, avg(response_time_ms) as latency, max(response_time_ms) by partition, available"`,
    );
    expect(q.stats).toEqual({
      aggregations: [
        { fn: "count", alias: "total" },
        { fn: "avg", field: "response_time_ms", alias: "latency" },
        { fn: "max", field: "response_time_ms", alias: "max_response_time_ms" },
      ],
      groupBy: ["partition", "available"],
    });
    expect(parse('in:devices stats:"count() as n by vendor_name" sort:n:desc').sort).toEqual([
      { field: "n", direction: "desc" },
    ]);
    expect(parse("in:devices stats:count()").stats).toEqual({
      aggregations: [{ fn: "count", alias: "count" }],
      groupBy: [],
    });
  });

  it("time series buckets with agg and series", () => {
    expect(parse("in:check_results time:last_24h bucket:5m agg:max series:check_id").series).toEqual({
      bucketSeconds: 300,
      agg: "max",
      valueField: "response_time_ms",
      groupBy: "check_id",
    });
    expect(parse("in:check_results bucket:1s").series).toMatchObject({ bucketSeconds: 1, agg: "avg" });
    expect(parse("in:check_results bucket:31d").series?.bucketSeconds).toBe(31 * 86_400);
  });
});

describe("SRQL errors name the token, its position and a stable code", () => {
  const cases: [string, string, string, number][] = [
    // query, code, token, position
    ["hostname:a", "SONDE_SRQL_MISSING_ENTITY", "hostname:a", 0],
    ["", "SONDE_SRQL_MISSING_ENTITY", "", 0],
    ["in:routers", "SONDE_SRQL_UNKNOWN_ENTITY", "in:routers", 3],
    ["in:devices in:pollers", "SONDE_SRQL_SYNTAX", "in:pollers", 11],
    ["in:devices !in:pollers", "SONDE_SRQL_SYNTAX", "!in:pollers", 11],
    ["in:devices hostname", "SONDE_SRQL_SYNTAX", "hostname", 11],
    ["in:devices hostname:", "SONDE_SRQL_SYNTAX", "hostname:", 11],
    ["in:devices 9x:a", "SONDE_SRQL_SYNTAX", "9x:a", 11],
    ['in:devices hostname:"open', "SONDE_SRQL_SYNTAX", 'hostname:"open', 20],
    ["in:devices ip:(1,2", "SONDE_SRQL_SYNTAX", "ip:(1,2", 14],
    ["in:devices ip:1,2)", "SONDE_SRQL_SYNTAX", "ip:1,2)", 17],
    ["in:devices ip:(1]", "SONDE_SRQL_SYNTAX", "ip:(1]", 16],
    ["in:devices hostnme:a", "SONDE_SRQL_UNKNOWN_FIELD", "hostnme:a", 11],
    ["in:devices type_id:ten", "SONDE_SRQL_INVALID_VALUE", "type_id:ten", 19],
    ["in:devices type_id:1.5", "SONDE_SRQL_INVALID_VALUE", "type_id:1.5", 19],
    ["in:devices is_available:yes", "SONDE_SRQL_INVALID_VALUE", "is_available:yes", 24],
    ["in:devices risk_level:extreme", "SONDE_SRQL_INVALID_VALUE", "risk_level:extreme", 22],
    ["in:devices ip:10.0.0.300", "SONDE_SRQL_INVALID_VALUE", "ip:10.0.0.300", 14],
    ["in:devices ip:10.0.0.0/33", "SONDE_SRQL_INVALID_VALUE", "ip:10.0.0.0/33", 14],
    ["in:devices ip:10.0.0.9-10.0.0.1", "SONDE_SRQL_INVALID_VALUE", "ip:10.0.0.9-10.0.0.1", 14],
    ["in:devices ip:10.0.0.1-fd00::1", "SONDE_SRQL_INVALID_VALUE", "ip:10.0.0.1-fd00::1", 14],
    ["in:devices type_id:(1,,2)", "SONDE_SRQL_INVALID_VALUE", "type_id:(1,,2)", 22],
    ["in:devices type_id:(1,x)", "SONDE_SRQL_INVALID_VALUE", "type_id:(1,x)", 22],
    ["in:devices last_seen:>yesterday", "SONDE_SRQL_INVALID_VALUE", "last_seen:>yesterday", 22],
    ["in:devices hostname:>a", "SONDE_SRQL_UNSUPPORTED", "hostname:>a", 20],
    ["in:devices limit:0", "SONDE_SRQL_INVALID_LIMIT", "limit:0", 17],
    ["in:devices limit:-5", "SONDE_SRQL_INVALID_LIMIT", "limit:-5", 17],
    ["in:devices limit:ten", "SONDE_SRQL_INVALID_LIMIT", "limit:ten", 17],
    ["in:devices limit:501", "SONDE_SRQL_INVALID_LIMIT", "limit:501", 17],
    ["in:devices limit:5 limit:6", "SONDE_SRQL_SYNTAX", "limit:6", 19],
    ["in:devices time:last_5x", "SONDE_SRQL_INVALID_TIME", "time:last_5x", 16],
    ["in:devices time:last_0h", "SONDE_SRQL_INVALID_TIME", "time:last_0h", 16],
    ["in:devices time:tomorrow", "SONDE_SRQL_INVALID_TIME", "time:tomorrow", 16],
    [
      "in:devices time:[2026-13-01T00:00:00Z,]",
      "SONDE_SRQL_INVALID_TIME",
      "time:[2026-13-01T00:00:00Z,]",
      17,
    ],
    [
      "in:devices time:[2026-11-02T00:00:00Z,2026-11-01T00:00:00Z]",
      "SONDE_SRQL_INVALID_TIME",
      "time:[2026-11-02T00:00:00Z,2026-11-01T00:00:00Z]",
      16,
    ],
    ["in:devices time:[,]", "SONDE_SRQL_INVALID_TIME", "time:[,]", 16],
    ["in:devices time:(a,b)", "SONDE_SRQL_INVALID_TIME", "time:(a,b)", 16],
    ["in:pollers time:last_1h", "SONDE_SRQL_UNSUPPORTED", "time:last_1h", 11],
    ["in:devices sort:hostname:up", "SONDE_SRQL_INVALID_SORT", "sort:hostname:up", 16],
    ["in:devices sort:hostname,,ip", "SONDE_SRQL_INVALID_SORT", "sort:hostname,,ip", 25],
    ["in:devices sort:nope", "SONDE_SRQL_UNKNOWN_FIELD", "sort:nope", 16],
    ["in:devices sort:discovery_sources", "SONDE_SRQL_INVALID_SORT", "sort:discovery_sources", 16],
    ['in:devices stats:"count() as n" sort:hostname', "SONDE_SRQL_INVALID_SORT", "sort:hostname", 37],
    ['in:devices stats:"count() as 1n"', "SONDE_SRQL_INVALID_STATS", 'stats:"count() as 1n"', 18],
    [
      'in:devices stats:"count() as n, count() as n"',
      "SONDE_SRQL_INVALID_STATS",
      'stats:"count() as n, count() as n"',
      32,
    ],
    ['in:devices stats:"median(type_id)"', "SONDE_SRQL_INVALID_STATS", 'stats:"median(type_id)"', 18],
    ['in:devices stats:"avg(hostname)"', "SONDE_SRQL_INVALID_STATS", 'stats:"avg(hostname)"', 18],
    ['in:devices stats:"sum()"', "SONDE_SRQL_INVALID_STATS", 'stats:"sum()"', 18],
    ['in:devices stats:"count() by colour"', "SONDE_SRQL_INVALID_STATS", 'stats:"count() by colour"', 29],
    ['in:devices stats:"count() by metadata"', "SONDE_SRQL_INVALID_STATS", 'stats:"count() by metadata"', 29],
    ['in:devices stats:"count(nope)"', "SONDE_SRQL_UNKNOWN_FIELD", 'stats:"count(nope)"', 18],
    ["in:check_results bucket:0s", "SONDE_SRQL_INVALID_BUCKET", "bucket:0s", 24],
    ["in:check_results bucket:32d", "SONDE_SRQL_INVALID_BUCKET", "bucket:32d", 24],
    ["in:check_results bucket:5y", "SONDE_SRQL_INVALID_BUCKET", "bucket:5y", 24],
    ["in:check_results bucket:5m agg:median", "SONDE_SRQL_INVALID_BUCKET", "agg:median", 31],
    ["in:check_results agg:avg", "SONDE_SRQL_INVALID_BUCKET", "agg:avg", 17],
    [
      "in:check_results bucket:5m series:response_time_ms",
      "SONDE_SRQL_INVALID_BUCKET",
      "series:response_time_ms",
      34,
    ],
    ["in:devices bucket:5m", "SONDE_SRQL_UNSUPPORTED", "bucket:5m", 11],
    ['in:check_results bucket:5m stats:"count()"', "SONDE_SRQL_UNSUPPORTED", "bucket:5m", 17],
    ["in:devices !time:today", "SONDE_SRQL_SYNTAX", "!time:today", 11],
  ];
  it.each(cases)("%s → %s", (query, code, token, position) => {
    const err = failure(query);
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(400);
    expect(err.meta).toMatchObject({ token, position });
    expect(err.message).toContain(`at position ${position}`);
    if (token !== "") expect(err.message).toContain(token.slice(0, 80));
  });

  it("lists at most 200 values", () => {
    const values = Array.from({ length: 201 }, (_, i) => i).join(",");
    expect(failure(`in:devices type_id:(${values})`).code).toBe("SONDE_SRQL_INVALID_VALUE");
    expect(
      parse(`in:devices type_id:(${values.split(",").slice(0, 200).join(",")})`).filters[0],
    ).toMatchObject({
      op: "in",
    });
  });

  it("unknown fields and groups list what is allowed", () => {
    expect(failure("in:pollers nope:1").meta).toMatchObject({ allowed: ["component_id", "status"] });
    expect(failure('in:pollers stats:"count() by nope"').message).toContain("component_id, status");
    expect(failure("in:routers").message).toContain("devices, check_results, pollers");
  });

  it("refuses over-long queries and too many tokens", () => {
    expect(failure(`in:devices hostname:${"a".repeat(9000)}`).code).toBe("SONDE_SRQL_SYNTAX");
    expect(failure(`in:devices ${"hostname:a ".repeat(200)}`).code).toBe("SONDE_SRQL_SYNTAX");
  });
});

describe("SRQL fuzzing: a query or a clean SRQL error, never anything else", () => {
  /** mulberry32, seeded: a failure reproduces. */
  function prng(seed: number) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const SEEDS = [
    "in:devices hostname:%cam% sort:last_seen:desc limit:50",
    "in:devices ip:10.0.0.0/8 is_available:false",
    'in:devices stats:"count() as n by vendor_name"',
    "in:check_results time:[2026-11-01T00:00:00Z,] bucket:5m agg:avg series:check_id",
    "in:devices type_id:(1,2,3) !risk_level:high time:last_24h ip:10.0.0.1-10.0.0.9",
  ];
  const ALPHABET = ` \t:!"'()[],%<>=-/.\\_aZ09${"in:devices".repeat(1)}`;

  function check(query: string) {
    try {
      const q = parseSrql(query, OPTIONS);
      expect(typeof q.entity).toBe("string");
      expect(q.limit).toBeGreaterThan(0);
      JSON.stringify(q);
    } catch (err) {
      if (!isSondeError(err) || !err.code.startsWith("SONDE_SRQL_")) {
        throw new Error(`query ${JSON.stringify(query)} raised ${String(err)}`, { cause: err });
      }
      expect(err.httpStatus).toBe(400);
      expect(typeof err.meta?.position).toBe("number");
    }
  }

  it("survives 20,000 mutated and random queries", () => {
    const random = prng(20261202);
    const pick = (s: string) => s[Math.floor(random() * s.length)] as string;
    let parsed = 0;
    for (let i = 0; i < 20_000; i++) {
      let q: string;
      if (i % 4 === 0) {
        q = Array.from({ length: Math.floor(random() * 40) }, () => pick(ALPHABET)).join("");
      } else {
        q = SEEDS[i % SEEDS.length] as string;
        const edits = 1 + Math.floor(random() * 4);
        for (let e = 0; e < edits; e++) {
          const at = Math.floor(random() * (q.length + 1));
          const op = random();
          if (op < 0.4) q = q.slice(0, at) + pick(ALPHABET) + q.slice(at);
          else if (op < 0.8) q = q.slice(0, at) + q.slice(at + 1);
          else q = q.slice(0, at) + q.slice(at, at + 5) + q.slice(at);
        }
      }
      try {
        parseSrql(q, OPTIONS);
        parsed++;
      } catch {
        // checked below
      }
      check(q);
    }
    // Some mutations stay valid, so the success path is fuzzed too.
    expect(parsed).toBeGreaterThan(100);
  });
});
