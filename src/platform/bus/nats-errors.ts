import { JetStreamApiError } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  DrainingConnectionError,
  InvalidSubjectError,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
  TimeoutError,
} from "@nats-io/transport-node";
import { type ErrorCode, type ErrorMeta, SondeError } from "../../lib/errors.js";

/** JetStream API error codes Sonde reacts to (nats-server errors.json). */
export const JsCode = {
  ConsumerNotFound: 10014,
  StreamNotFound: 10059,
  StreamNameInUse: 10058,
  StreamSubjectOverlap: 10065,
  WrongLastSequence: 10071,
  ConsumerAlreadyExists: 10148,
} as const;

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = err; e !== undefined && chain.length < 8;) {
    chain.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return chain;
}

/** Direct requests and JetStream publishes report "nobody listens" in different wrappers. */
export function isNoResponders(err: unknown): boolean {
  return causes(err).some(
    (e) => e instanceof NoRespondersError || (e instanceof RequestError && e.isNoResponders()),
  );
}

function isClosed(err: unknown): boolean {
  return causes(err).some(
    (e) =>
      e instanceof ClosedConnectionError ||
      e instanceof DrainingConnectionError ||
      (e instanceof RequestError && e.message === "connection closed"),
  );
}

export function jsApiCode(err: unknown): number | undefined {
  const found = causes(err).find((e) => e instanceof JetStreamApiError);
  return found instanceof JetStreamApiError ? found.code : undefined;
}

function codeFor(err: unknown): ErrorCode {
  if (isNoResponders(err)) return "SONDE_BUS_NO_RESPONDERS";
  if (isClosed(err)) return "SONDE_BUS_CLOSED";
  // The server refused the subject for this user (its permissions in the NATS configuration).
  if (causes(err).some((e) => e instanceof PermissionViolationError)) return "SONDE_BUS_PERMISSION_DENIED";
  if (causes(err).some((e) => e instanceof TimeoutError)) return "SONDE_BUS_TIMEOUT";
  if (causes(err).some((e) => e instanceof InvalidSubjectError)) return "SONDE_BUS_INVALID_SUBJECT";
  const api = causes(err).find((e) => e instanceof JetStreamApiError);
  if (api instanceof JetStreamApiError) {
    switch (api.code) {
      case JsCode.WrongLastSequence:
        return "SONDE_KV_REVISION_MISMATCH";
      case JsCode.StreamNameInUse:
      case JsCode.StreamSubjectOverlap:
      case JsCode.ConsumerAlreadyExists:
        return "SONDE_CONFLICT";
      default:
        if (api.status === 404) return "SONDE_NOT_FOUND";
        if (api.status === 400) return "SONDE_CONFIG_INVALID";
        if (api.status === 503) return "SONDE_BUS_UNREACHABLE";
    }
  }
  return "SONDE_INTERNAL";
}

/**
 * Translates a client error into the catalogue. `what` names the operation for the operator
 * ("request on sonde.acme.dispatch"); the client's own text follows it.
 */
export function fromNats(err: unknown, what: string, meta?: ErrorMeta): SondeError {
  if (err instanceof SondeError) return err;
  const code = codeFor(err);
  const reason = err instanceof Error ? err.message : String(err);
  const message =
    code === "SONDE_BUS_NO_RESPONDERS"
      ? `${what}: no responders`
      : code === "SONDE_BUS_CLOSED"
        ? `${what}: the message bus is closed`
        : `${what}: ${reason}`;
  return new SondeError(code, message, { cause: err, ...(meta === undefined ? {} : { meta }) });
}
