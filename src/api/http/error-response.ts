import { isSondeError, SondeError } from "../../lib/errors.js";

/** A JSON:API error object (https://jsonapi.org/format/#error-objects); the body of every error. */
export interface ErrorObject {
  readonly status: string;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly source?: { readonly pointer?: string; readonly parameter?: string };
  readonly meta?: Readonly<Record<string, unknown>>;
}

export interface ErrorBody {
  readonly errors: readonly ErrorObject[];
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  validation?: unknown;
}

/**
 * Maps what Fastify itself raises (body limits, malformed JSON, content types) onto the catalogue,
 * so that clients see one error shape with stable codes whatever layer refused the request.
 */
export function toSondeError(err: unknown): SondeError {
  if (isSondeError(err)) return err;
  const e = (typeof err === "object" && err !== null ? err : {}) as FastifyLikeError;
  const code = typeof e.code === "string" ? e.code : "";
  switch (code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new SondeError("SONDE_PAYLOAD_TOO_LARGE", "the request body is larger than the server accepts");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new SondeError("SONDE_UNSUPPORTED_MEDIA_TYPE", "the request's content type is not supported");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new SondeError("SONDE_BAD_REQUEST", "the request body is empty but its content type is JSON");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new SondeError("SONDE_BAD_REQUEST", "the request body is not valid JSON");
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new SondeError("SONDE_BAD_REQUEST", "the Content-Length header does not match the body");
    default:
      break;
  }
  if (err instanceof SyntaxError)
    return new SondeError("SONDE_BAD_REQUEST", "the request body is not valid JSON");
  if (e.validation !== undefined) return new SondeError("SONDE_BAD_REQUEST", "the request is malformed");
  const status = typeof e.statusCode === "number" ? e.statusCode : 500;
  if (status === 413) return new SondeError("SONDE_PAYLOAD_TOO_LARGE", "the request body is too large");
  if (status === 415) return new SondeError("SONDE_UNSUPPORTED_MEDIA_TYPE", "unsupported content type");
  if (status >= 400 && status < 500) return new SondeError("SONDE_BAD_REQUEST", "the request is malformed");
  return new SondeError("SONDE_INTERNAL", "internal error", { cause: err });
}

export function errorBody(err: SondeError): ErrorBody {
  const source =
    err.pointer !== undefined || err.parameter !== undefined
      ? {
          ...(err.pointer !== undefined ? { pointer: err.pointer } : {}),
          ...(err.parameter !== undefined ? { parameter: err.parameter } : {}),
        }
      : undefined;
  return {
    errors: [
      {
        status: String(err.httpStatus),
        code: err.code,
        title: err.title,
        detail: err.message,
        ...(source ? { source } : {}),
        ...(err.meta
          ? { meta: { ...err.meta, retryable: err.retryable } }
          : { meta: { retryable: err.retryable } }),
      },
    ],
  };
}
