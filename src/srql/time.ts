import { srqlError } from "./errors.js";
import { splitList, unquote } from "./lexer.js";
import type { Token } from "./lexer.js";
import { parseTimestamp } from "./values.js";

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
/** Words for units in `"14 Days"` style values. */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  second: "s",
  seconds: "s",
  sec: "s",
  secs: "s",
  minute: "m",
  minutes: "m",
  min: "m",
  mins: "m",
  hour: "h",
  hours: "h",
  day: "d",
  days: "d",
  week: "w",
  weeks: "w",
};
/** Ten years: a longer window is a typo, and would overflow nothing but help no one. */
const MAX_SPAN_MS = 3650 * 86_400_000;

const DAY_MS = 86_400_000;
const LAST = /^(?:last_?)?(\d{1,6})\s*([a-z]+)$/i;

function startOfUtcDay(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

const MESSAGE =
  'invalid time range (use last_30m, last_24h, 7d, "14 days", today, yesterday or [start,end] in RFC 3339)';

/** `time:`/`timeFrame:` → an inclusive start and an exclusive end (either may be open), in UTC. */
export function parseTimeRange(token: Token, now: Date): { from?: string; to?: string } {
  const bad = (problem = MESSAGE, position = token.valueStart) =>
    srqlError("SONDE_SRQL_INVALID_TIME", problem, token.text, position);
  const value = unquote(token.value) ?? token.value;
  const nowMs = now.getTime();
  const lower = value.trim().toLowerCase();
  if (lower === "today") return { from: new Date(startOfUtcDay(nowMs)).toISOString() };
  if (lower === "yesterday") {
    const today = startOfUtcDay(nowMs);
    return { from: new Date(today - DAY_MS).toISOString(), to: new Date(today).toISOString() };
  }
  const list = splitList(token.value);
  if (list !== undefined) {
    if (list.close !== "]" || list.items.length !== 2) {
      throw bad("a time range is written [start,end] with one side optionally empty");
    }
    const [start, end] = list.items.map((item) => {
      if (item.text === "") return undefined;
      const iso = parseTimestamp(item.text);
      if (iso === undefined) {
        throw bad(`"${item.text}" is not an RFC 3339 time`, token.valueStart + item.offset);
      }
      return iso;
    });
    if (start === undefined && end === undefined) throw bad("a time range needs a start or an end");
    if (start !== undefined && end !== undefined && start >= end)
      throw bad("the range ends before it starts");
    return { ...(start === undefined ? {} : { from: start }), ...(end === undefined ? {} : { to: end }) };
  }
  const m = LAST.exec(lower);
  if (m === null) throw bad();
  const amount = Number(m[1]);
  const unitWord = (m[2] ?? "").toLowerCase();
  const unit = UNIT_MS[unitWord] !== undefined ? unitWord : UNIT_WORDS[unitWord];
  const unitMs = unit === undefined ? undefined : UNIT_MS[unit];
  if (unitMs === undefined) throw bad();
  const span = amount * unitMs;
  if (amount === 0 || span > MAX_SPAN_MS) throw bad("the window must be longer than 0 and at most 10 years");
  return { from: new Date(nowMs - span).toISOString() };
}

/** `bucket:5m` → seconds; 1 s to 31 days. */
export function parseBucket(token: Token): number {
  const m = /^(\d{1,7})([smhd])$/i.exec(token.value);
  const bad = (problem: string) =>
    srqlError("SONDE_SRQL_INVALID_BUCKET", problem, token.text, token.valueStart);
  if (m === null) throw bad("a bucket is a number and a unit: s, m, h or d (e.g. 5m)");
  const seconds = (Number(m[1]) * (UNIT_MS[(m[2] ?? "").toLowerCase()] ?? 0)) / 1000;
  if (seconds < 1 || seconds > 31 * 86_400) throw bad("a bucket is between 1s and 31d");
  return seconds;
}
