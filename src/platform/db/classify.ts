import { SondeError } from "../../lib/errors.js";

interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
  detail?: unknown;
  column?: unknown;
}

/**
 * Turns a PostgreSQL error (node-postgres or PGlite; both carry SQLSTATE in `code`) into a catalogue
 * error. The field is named from the constraint's key, never from the raw message, which may quote
 * row values.
 */
export function classifyDbError(err: unknown): SondeError {
  if (err instanceof SondeError) return err;
  const e = pgError(err);
  const sqlstate = typeof e.code === "string" ? e.code : "";
  const constraint = typeof e.constraint === "string" ? e.constraint : undefined;
  const field = fieldFromDetail(e.detail) ?? (typeof e.column === "string" ? e.column : undefined);
  const meta = { ...(constraint ? { constraint } : {}), ...(field ? { field } : {}) };
  switch (sqlstate) {
    case "23505":
      return new SondeError(
        "SONDE_DB_UNIQUE_VIOLATION",
        field ? `${field} is already taken` : "already exists",
        {
          meta,
          cause: err,
        },
      );
    case "23503":
      return new SondeError(
        "SONDE_DB_FOREIGN_KEY_VIOLATION",
        field ? `${field} refers to a record that does not exist` : "a related record does not exist",
        { meta, cause: err },
      );
    case "23502":
    case "23514":
    case "22001":
    case "22P02":
      return new SondeError(
        "SONDE_DB_CHECK_VIOLATION",
        field ? `${field} is not valid` : "a constraint was violated",
        {
          meta,
          cause: err,
        },
      );
    case "40001":
    case "40P01":
      return new SondeError("SONDE_DB_SERIALIZATION_FAILURE", "concurrent update, please retry", {
        cause: err,
      });
    case "57P01":
    case "57P02":
    case "57P03":
    case "08000":
    case "08003":
    case "08006":
      return new SondeError("SONDE_DB_UNAVAILABLE", "the database is not available", { cause: err });
    case "42501":
      return new SondeError("SONDE_FORBIDDEN", "not allowed", { cause: err });
    default:
      return new SondeError("SONDE_INTERNAL", "internal error", { cause: err });
  }
}

/** The PostgreSQL error itself: drizzle wraps it ("Failed query: …") and keeps it as `cause`. */
function pgError(err: unknown): PgLikeError & { cause?: unknown } {
  let current: unknown = err;
  for (let depth = 0; depth < 3 && typeof current === "object" && current !== null; depth++) {
    const candidate = current as PgLikeError & { cause?: unknown };
    if (typeof candidate.code === "string") return candidate;
    current = candidate.cause;
  }
  return {};
}

/** `Key (email)=(a@b.c) already exists.` → `email`. Multi-column keys come back as `a, b`. */
function fieldFromDetail(detail: unknown): string | undefined {
  if (typeof detail !== "string") return undefined;
  const m = /^Key \(([^)]+)\)=/.exec(detail);
  return m?.[1];
}
