/**
 * The error catalogue: every error Sonde returns to a caller comes from here.
 *
 * Terminology:
 * - code: a stable, upper-snake identifier (`SONDE_…`). Clients match on it; it never changes meaning.
 * - httpStatus / grpcStatus: how a transport reports it. gRPC statuses use the canonical numeric codes.
 * - retryable: whether the same request may succeed if sent again unchanged (a busy database, a
 *   timed-out bus request). Validation and authorization failures are never retryable.
 *
 * Messages are written for the operator who reads them; they never contain secrets, raw SQL or stack
 * traces. Details (`meta`) carry structured, safe context such as the offending field.
 */

/** Canonical gRPC status codes (google.rpc.Code). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcStatusCode = (typeof GrpcStatus)[keyof typeof GrpcStatus];

interface CatalogueEntry {
  readonly httpStatus: number;
  readonly grpcStatus: GrpcStatusCode;
  readonly retryable: boolean;
  /** Short, human title; the specific message is given where the error is raised. */
  readonly title: string;
}

function entry(
  httpStatus: number,
  grpcStatus: GrpcStatusCode,
  retryable: boolean,
  title: string,
): CatalogueEntry {
  return { httpStatus, grpcStatus, retryable, title };
}

export const ErrorCatalogue = {
  // Configuration and start-up
  SONDE_CONFIG_INVALID: entry(500, GrpcStatus.FAILED_PRECONDITION, false, "Invalid configuration"),
  SONDE_DB_UNREACHABLE: entry(503, GrpcStatus.UNAVAILABLE, true, "Database unreachable"),
  SONDE_MIGRATION_FAILED: entry(500, GrpcStatus.INTERNAL, false, "Migration failed"),
  SONDE_BUS_UNREACHABLE: entry(503, GrpcStatus.UNAVAILABLE, true, "Message bus unreachable"),
  SONDE_SHUTTING_DOWN: entry(503, GrpcStatus.UNAVAILABLE, true, "Shutting down"),

  // Requests
  SONDE_BAD_REQUEST: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Bad request"),
  SONDE_VALIDATION_FAILED: entry(422, GrpcStatus.INVALID_ARGUMENT, false, "Validation failed"),
  SONDE_PAYLOAD_TOO_LARGE: entry(413, GrpcStatus.RESOURCE_EXHAUSTED, false, "Payload too large"),
  SONDE_UNSUPPORTED_MEDIA_TYPE: entry(415, GrpcStatus.INVALID_ARGUMENT, false, "Unsupported media type"),
  SONDE_NOT_ACCEPTABLE: entry(406, GrpcStatus.INVALID_ARGUMENT, false, "Not acceptable"),
  SONDE_NOT_FOUND: entry(404, GrpcStatus.NOT_FOUND, false, "Not found"),
  SONDE_ROUTE_NOT_FOUND: entry(404, GrpcStatus.UNIMPLEMENTED, false, "Route not found"),
  SONDE_METHOD_NOT_ALLOWED: entry(405, GrpcStatus.UNIMPLEMENTED, false, "Method not allowed"),
  SONDE_UNAUTHENTICATED: entry(401, GrpcStatus.UNAUTHENTICATED, false, "Authentication required"),
  SONDE_FORBIDDEN: entry(403, GrpcStatus.PERMISSION_DENIED, false, "Forbidden"),
  SONDE_CONFLICT: entry(409, GrpcStatus.ALREADY_EXISTS, false, "Conflict"),
  SONDE_INVALID_TRANSITION: entry(409, GrpcStatus.FAILED_PRECONDITION, false, "Invalid state transition"),
  SONDE_GUARD_FAILED: entry(409, GrpcStatus.FAILED_PRECONDITION, false, "Record no longer matches"),
  SONDE_RATE_LIMITED: entry(429, GrpcStatus.RESOURCE_EXHAUSTED, true, "Too many requests"),

  // Tenants
  SONDE_TENANT_SUSPENDED: entry(403, GrpcStatus.PERMISSION_DENIED, false, "Tenant suspended"),
  SONDE_TENANT_LIMIT_REACHED: entry(422, GrpcStatus.RESOURCE_EXHAUSTED, false, "Tenant limit reached"),
  SONDE_LINK_INVALID: entry(410, GrpcStatus.FAILED_PRECONDITION, false, "Link expired or already used"),

  // Bus
  SONDE_BUS_NO_RESPONDERS: entry(503, GrpcStatus.UNAVAILABLE, true, "No responders"),
  SONDE_BUS_TIMEOUT: entry(504, GrpcStatus.DEADLINE_EXCEEDED, true, "Bus request timed out"),
  SONDE_KV_REVISION_MISMATCH: entry(409, GrpcStatus.ABORTED, true, "Key-value revision mismatch"),
  SONDE_BUS_INVALID_SUBJECT: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Invalid subject"),
  SONDE_BUS_CLOSED: entry(503, GrpcStatus.UNAVAILABLE, false, "Bus connection closed"),

  // Jobs
  SONDE_JOB_UNKNOWN_QUEUE: entry(500, GrpcStatus.INTERNAL, false, "Unknown job queue"),
  SONDE_JOB_PAYLOAD_INVALID: entry(422, GrpcStatus.INVALID_ARGUMENT, false, "Invalid job payload"),
  SONDE_JOB_QUEUE_NOT_RUNNING: entry(503, GrpcStatus.UNAVAILABLE, true, "Job queue not running"),

  // Mail
  SONDE_MAIL_FAILED: entry(502, GrpcStatus.UNAVAILABLE, true, "Mail could not be sent"),

  // Integrations (Armis, NetBox): the remote API, never Sonde's caller, is what failed.
  SONDE_INTEGRATION_AUTH_FAILED: entry(
    502,
    GrpcStatus.FAILED_PRECONDITION,
    false,
    "Integration refused the credentials",
  ),
  SONDE_INTEGRATION_UNAVAILABLE: entry(502, GrpcStatus.UNAVAILABLE, true, "Integration unavailable"),
  SONDE_INTEGRATION_BAD_RESPONSE: entry(502, GrpcStatus.UNKNOWN, false, "Integration answered unexpectedly"),

  // Database (classified from PostgreSQL SQLSTATE)
  SONDE_DB_UNIQUE_VIOLATION: entry(409, GrpcStatus.ALREADY_EXISTS, false, "Already exists"),
  SONDE_DB_FOREIGN_KEY_VIOLATION: entry(422, GrpcStatus.FAILED_PRECONDITION, false, "Related record missing"),
  SONDE_DB_SERIALIZATION_FAILURE: entry(503, GrpcStatus.ABORTED, true, "Concurrent update, retry"),
  SONDE_DB_CHECK_VIOLATION: entry(422, GrpcStatus.INVALID_ARGUMENT, false, "Constraint violated"),
  SONDE_DB_UNAVAILABLE: entry(503, GrpcStatus.UNAVAILABLE, true, "Database unavailable"),

  // Encryption at rest: a stored value that does not authenticate (tampered, moved, or its key lost).
  SONDE_DECRYPTION_FAILED: entry(500, GrpcStatus.DATA_LOSS, false, "Stored value could not be decrypted"),

  // SRQL: every malformed query is the caller's to fix; meta names the token and its position.
  SONDE_SRQL_SYNTAX: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Malformed query"),
  SONDE_SRQL_MISSING_ENTITY: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Query names no entity"),
  SONDE_SRQL_UNKNOWN_ENTITY: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Unknown query entity"),
  SONDE_SRQL_UNKNOWN_FIELD: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Unknown query field"),
  SONDE_SRQL_INVALID_VALUE: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Invalid query value"),
  SONDE_SRQL_INVALID_LIMIT: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Invalid query limit"),
  SONDE_SRQL_INVALID_TIME: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Invalid query time range"),
  SONDE_SRQL_INVALID_SORT: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Invalid query sort"),
  SONDE_SRQL_INVALID_STATS: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Invalid query statistics"),
  SONDE_SRQL_INVALID_BUCKET: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Invalid query time bucket"),
  SONDE_SRQL_UNSUPPORTED: entry(400, GrpcStatus.INVALID_ARGUMENT, false, "Unsupported in this query"),

  // Polling fabric: agents (gRPC monitoring.AgentService)
  SONDE_AGENT_BAD_RESPONSE: entry(502, GrpcStatus.UNKNOWN, false, "Agent answered unexpectedly"),

  // Fabric security: certificates, mTLS peers, files the certs and nats-config commands write.
  SONDE_TLS_MATERIAL_INVALID: entry(500, GrpcStatus.FAILED_PRECONDITION, false, "Invalid TLS material"),
  SONDE_PEER_REJECTED: entry(403, GrpcStatus.PERMISSION_DENIED, false, "Peer certificate rejected"),
  SONDE_FILE_EXISTS: entry(409, GrpcStatus.ALREADY_EXISTS, false, "File already exists"),
  SONDE_BUS_PERMISSION_DENIED: entry(403, GrpcStatus.PERMISSION_DENIED, false, "Bus permission denied"),

  SONDE_INTERNAL: entry(500, GrpcStatus.INTERNAL, false, "Internal error"),
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ErrorCatalogue;

/** Structured, safe-to-show context attached to an error. */
export type ErrorMeta = Readonly<Record<string, string | number | boolean | null | readonly string[]>>;

export interface SondeErrorOptions {
  readonly meta?: ErrorMeta;
  /** JSON pointer to the offending part of a request body (JSON:API `source.pointer`). */
  readonly pointer?: string;
  /** Name of the offending query parameter (JSON:API `source.parameter`). */
  readonly parameter?: string;
  /** The underlying error; kept for logs, never serialised to clients. */
  readonly cause?: unknown;
}

export class SondeError extends Error {
  readonly code: ErrorCode;
  readonly httpStatus: number;
  readonly grpcStatus: GrpcStatusCode;
  readonly retryable: boolean;
  readonly title: string;
  readonly meta: ErrorMeta | undefined;
  readonly pointer: string | undefined;
  readonly parameter: string | undefined;

  constructor(code: ErrorCode, message: string, options: SondeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const def = ErrorCatalogue[code];
    this.name = "SondeError";
    this.code = code;
    this.httpStatus = def.httpStatus;
    this.grpcStatus = def.grpcStatus;
    this.retryable = def.retryable;
    this.title = def.title;
    this.meta = options.meta;
    this.pointer = options.pointer;
    this.parameter = options.parameter;
  }
}

export function sondeError(code: ErrorCode, message: string, options?: SondeErrorOptions): SondeError {
  return new SondeError(code, message, options);
}

export function isSondeError(value: unknown, code?: ErrorCode): value is SondeError {
  return value instanceof SondeError && (code === undefined || value.code === code);
}

/** Exhaustiveness guard for switches over unions: a new member becomes a compile error. */
export function assertNever(value: never, what = "value"): never {
  throw new SondeError("SONDE_INTERNAL", `unhandled ${what}: ${String(value)}`);
}
