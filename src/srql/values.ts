import { srqlError } from "./errors.js";
import { isIP } from "./ip.js";
import type { FieldSpec, Scalar } from "./types.js";

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const INTEGER = /^[-+]?\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 3339 date-time (a bare date is accepted as its midnight UTC). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;

/** A timestamp as ISO UTC, or undefined when the text is not RFC 3339 or names no real instant. */
export function parseTimestamp(text: string): string | undefined {
  if (!RFC3339.test(text)) return undefined;
  const hasZone = /(?:[Zz]|[+-]\d{2}:\d{2})$/.test(text);
  const ms = Date.parse(text.length === 10 || hasZone ? text : `${text}Z`);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export interface ValueContext {
  readonly field: string;
  readonly token: string;
  /** Where the value starts in the query. */
  readonly position: number;
}

function invalid(ctx: ValueContext, what: string, meta: Record<string, readonly string[]> = {}) {
  return srqlError("SONDE_SRQL_INVALID_VALUE", `${ctx.field} ${what}`, ctx.token, ctx.position, {
    field: ctx.field,
    ...meta,
  });
}

/** A written value as the field's type: numbers as numbers, booleans as booleans, timestamps as ISO. */
export function scalarFor(spec: FieldSpec, text: string, ctx: ValueContext): Scalar {
  switch (spec.type) {
    case "number": {
      if (!NUMBER.test(text)) throw invalid(ctx, `takes a number, not "${text}"`);
      return Number(text);
    }
    case "integer": {
      if (!INTEGER.test(text) || !Number.isSafeInteger(Number(text))) {
        throw invalid(ctx, `takes a whole number, not "${text}"`);
      }
      return Number(text);
    }
    case "boolean": {
      const lower = text.toLowerCase();
      if (lower !== "true" && lower !== "false") throw invalid(ctx, `takes true or false, not "${text}"`);
      return lower === "true";
    }
    case "timestamp": {
      const iso = parseTimestamp(text);
      if (iso === undefined) throw invalid(ctx, `takes an RFC 3339 time, not "${text}"`);
      return iso;
    }
    case "ip": {
      if (isIP(text) === 0) throw invalid(ctx, `takes an IP address, not "${text}"`);
      return text;
    }
    case "uuid": {
      if (!UUID.test(text)) throw invalid(ctx, `takes a UUID, not "${text}"`);
      return text.toLowerCase();
    }
    case "enum": {
      const allowed = spec.values ?? [];
      const found = allowed.find((v) => v.toLowerCase() === text.toLowerCase());
      if (found === undefined) {
        throw invalid(ctx, `is one of ${allowed.join(", ")}, not "${text}"`, { allowed });
      }
      return found;
    }
    case "text":
    case "text_array":
      return text;
  }
}
