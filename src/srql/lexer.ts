import { srqlError } from "./errors.js";

/** Queries longer than this are refused before any work: a search box never needs more. */
export const MAX_QUERY_LENGTH = 8192;
export const MAX_TOKENS = 128;

export interface Token {
  /** The whole token as written, `!` and quotes included. */
  readonly text: string;
  /** Offset of its first character in the query. */
  readonly start: number;
  /** Lower-cased key, without `!`. */
  readonly key: string;
  readonly negated: boolean;
  /** What follows the first `:` outside quotes and brackets, as written. */
  readonly value: string;
  /** Offset of the value's first character. */
  readonly valueStart: number;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const CLOSING: Readonly<Record<string, string>> = { "(": ")", "[": "]" };

/**
 * Splits a query into `key:value` tokens: whitespace separates them, except inside quotes (`"…"`,
 * `'…'`, where `\` escapes the next character) and brackets (`(…)`, `[…]`).
 */
export function tokenize(query: string): Token[] {
  if (query.length > MAX_QUERY_LENGTH) {
    throw srqlError(
      "SONDE_SRQL_SYNTAX",
      `query is longer than ${MAX_QUERY_LENGTH} characters`,
      query.slice(0, 20),
      0,
    );
  }
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    while (i < query.length && isSpace(query.charCodeAt(i))) i++;
    if (i >= query.length) break;
    const start = i;
    let colon = -1;
    const open: { char: string; at: number }[] = [];
    let quote: { char: string; at: number } | undefined;
    for (; i < query.length; i++) {
      const c = query[i] as string;
      if (quote !== undefined) {
        if (c === "\\") i++;
        else if (c === quote.char) quote = undefined;
        continue;
      }
      if (open.length === 0 && isSpace(query.charCodeAt(i))) break;
      if (c === '"' || c === "'") quote = { char: c, at: i };
      else if (c === "(" || c === "[") open.push({ char: c, at: i });
      else if (c === ")" || c === "]") {
        const last = open.pop();
        if (last === undefined || CLOSING[last.char] !== c) {
          throw srqlError("SONDE_SRQL_SYNTAX", `unbalanced "${c}"`, query.slice(start, i + 1), i);
        }
      } else if (c === ":" && colon === -1 && open.length === 0) colon = i;
    }
    if (quote !== undefined) {
      throw srqlError("SONDE_SRQL_SYNTAX", "unterminated quote", query.slice(start, i), quote.at);
    }
    const unclosed = open[open.length - 1];
    if (unclosed !== undefined) {
      throw srqlError("SONDE_SRQL_SYNTAX", `unclosed "${unclosed.char}"`, query.slice(start, i), unclosed.at);
    }
    const text = query.slice(start, i);
    if (colon === -1) {
      throw srqlError("SONDE_SRQL_SYNTAX", 'token without ":" (write key:value)', text, start);
    }
    const negated = text.startsWith("!");
    const rawKey = query.slice(start + (negated ? 1 : 0), colon);
    if (!KEY.test(rawKey)) {
      throw srqlError("SONDE_SRQL_SYNTAX", "invalid key (letters, digits, _ and .)", text, start);
    }
    if (colon === i - 1) throw srqlError("SONDE_SRQL_SYNTAX", 'no value after ":"', text, start);
    if (tokens.length === MAX_TOKENS) {
      throw srqlError("SONDE_SRQL_SYNTAX", `more than ${MAX_TOKENS} tokens`, text, start);
    }
    tokens.push({
      text,
      start,
      key: rawKey.toLowerCase(),
      negated,
      value: query.slice(colon + 1, i),
      valueStart: colon + 1,
    });
  }
  return tokens;
}

/** Space, tab, CR, LF, and the other ASCII whitespace a pasted query may carry. */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** A value in quotes → its text (escapes resolved); undefined when the value is not quoted as a whole. */
export function unquote(value: string): string | undefined {
  const q = value[0];
  if ((q !== '"' && q !== "'") || value.length < 2 || value[value.length - 1] !== q) return undefined;
  let out = "";
  for (let i = 1; i < value.length - 1; i++) {
    const c = value[i] as string;
    if (c === "\\" && i + 1 < value.length - 1) {
      out += value[i + 1];
      i++;
    } else if (c === q) {
      return undefined; // `"a"b"`: the quote closed before the end
    } else out += c;
  }
  return out;
}

/**
 * `(a, "b c", d)` / `[a,b]` → its elements with their offsets (relative to the value), quotes
 * removed; undefined when the value is not a bracketed list. Empty elements are kept (as "") so
 * that the caller can report them where they are.
 */
export function splitList(
  value: string,
):
  | { readonly items: { text: string; offset: number; quoted: boolean }[]; readonly close: string }
  | undefined {
  const first = value[0];
  if (first !== "(" && first !== "[") return undefined;
  const close = CLOSING[first] as string;
  if (value[value.length - 1] !== close) return undefined;
  const items: { text: string; offset: number; quoted: boolean }[] = [];
  let quote: string | undefined;
  let itemStart = 1;
  const push = (end: number) => {
    const raw = value.slice(itemStart, end);
    const lead = raw.length - raw.trimStart().length;
    const trimmed = raw.trim();
    const unq = unquote(trimmed);
    items.push({ text: unq ?? trimmed, offset: itemStart + lead, quoted: unq !== undefined });
  };
  for (let i = 1; i < value.length - 1; i++) {
    const c = value[i];
    if (quote !== undefined) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ",") {
      push(i);
      itemStart = i + 1;
    }
  }
  push(value.length - 1);
  return { items, close };
}
