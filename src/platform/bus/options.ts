import { SondeError } from "../../lib/errors.js";
import { assertName, assertSubscribeSubject } from "./subjects.js";
import type { ConsumeOptions, KvOptions, StreamDefinition } from "./types.js";

/**
 * Checks and defaults for streams, consumers and buckets, shared so both adapters refuse the same
 * settings with the same error.
 */

/** JetStream's default duplicate window. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
/** JetStream's defaults for a consumer that does not set them. */
export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_MAX_ACK_PENDING = 1_000;
/** How long close() waits for running handlers unless told otherwise. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export interface NormalizedStream {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly maxAgeMs: number | undefined;
  readonly maxMsgs: number | undefined;
  readonly duplicateWindowMs: number;
}

export interface NormalizedConsume {
  readonly filterSubject: string | undefined;
  readonly ackWaitMs: number;
  /** -1: unlimited, as in JetStream. */
  readonly maxDeliver: number;
  readonly maxAckPending: number;
  readonly deliverNew: boolean;
  readonly prefetch: number;
}

function invalid(what: string, value: unknown): SondeError {
  return new SondeError("SONDE_CONFIG_INVALID", `${what} must be a positive integer`, {
    meta: { [what]: String(value) },
  });
}

function positive(what: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) throw invalid(what, value);
  return value;
}

export function normalizeStream(def: StreamDefinition): NormalizedStream {
  assertName("stream", def.name);
  if (def.subjects.length === 0) {
    throw new SondeError("SONDE_CONFIG_INVALID", `stream ${def.name} needs at least one subject`, {
      meta: { stream: def.name },
    });
  }
  for (const s of def.subjects) assertSubscribeSubject(s);
  const maxAgeMs = positive("maxAgeMs", def.maxAgeMs);
  const maxMsgs = positive("maxMsgs", def.maxMsgs);
  const window = positive("duplicateWindowMs", def.duplicateWindowMs);
  if (window !== undefined && maxAgeMs !== undefined && window > maxAgeMs) {
    // JetStream refuses this: a message cannot be remembered as a duplicate after it is gone.
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      `stream ${def.name}: duplicateWindowMs cannot exceed maxAgeMs`,
      {
        meta: { stream: def.name },
      },
    );
  }
  return {
    name: def.name,
    subjects: [...def.subjects],
    maxAgeMs,
    maxMsgs,
    duplicateWindowMs:
      window ?? Math.min(DEFAULT_DUPLICATE_WINDOW_MS, maxAgeMs ?? DEFAULT_DUPLICATE_WINDOW_MS),
  };
}

export function normalizeConsume(stream: string, durable: string, opts: ConsumeOptions): NormalizedConsume {
  assertName("stream", stream);
  assertName("durable", durable);
  if (opts.filterSubject !== undefined) assertSubscribeSubject(opts.filterSubject);
  return {
    filterSubject: opts.filterSubject,
    ackWaitMs: positive("ackWaitMs", opts.ackWaitMs) ?? DEFAULT_ACK_WAIT_MS,
    maxDeliver: positive("maxDeliver", opts.maxDeliver) ?? -1,
    maxAckPending: positive("maxAckPending", opts.maxAckPending) ?? DEFAULT_MAX_ACK_PENDING,
    deliverNew: opts.deliverNew === true,
    prefetch: Math.min(1_000, positive("prefetch", opts.prefetch) ?? 1),
  };
}

export function checkKvOptions(bucket: string, opts: KvOptions): void {
  assertName("bucket", bucket);
  if (opts.bind === true && (opts.ttlMs !== undefined || opts.history !== undefined)) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      "a bound bucket keeps its settings: give no ttlMs or history",
      {
        meta: { bucket },
      },
    );
  }
  positive("ttlMs", opts.ttlMs);
  if (
    opts.history !== undefined &&
    !(Number.isInteger(opts.history) && opts.history >= 1 && opts.history <= 64)
  ) {
    throw new SondeError("SONDE_CONFIG_INVALID", "bucket history must be an integer from 1 to 64", {
      meta: { history: opts.history },
    });
  }
}

export function checkRequestTimeout(timeoutMs: number): void {
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new SondeError("SONDE_BAD_REQUEST", "request timeoutMs must be a positive number", {
      meta: { timeoutMs: String(timeoutMs) },
    });
  }
}
