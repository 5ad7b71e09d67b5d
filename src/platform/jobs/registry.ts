import { z } from "zod";
import { SondeError } from "../../lib/errors.js";
import { jobNameProblem } from "./names.js";

/**
 * The typed job registry (graphile-worker's idea: a job's name and its payload type are declared
 * once, so sending a job and handling it cannot drift apart).
 *
 * Terminology:
 * - job definition: a name, a zod payload schema and delivery options, made by `defineJob`. The
 *   definition object itself is the key for `send`, `work`, `schedule` and `stats`.
 * - input / payload: what `send` accepts (`z.input` of the schema) and what a handler receives
 *   (`z.output`). The payload is validated on send, stored as JSON, and validated again on receipt.
 * - attempt: one delivery of a job to a handler. A job gets `1 + retryLimit` attempts; after the
 *   last failed attempt it is `failed` and, unless `deadLetter: false`, a copy of its payload lands
 *   in the dead-letter queue `<name>.dead`.
 * - policy: pg-boss's queue policy, which decides what `singletonKey` means (see `JobSpec.policy`).
 */

export type QueuePolicy = "standard" | "short" | "singleton" | "stately";

export interface JobSpec<Schema extends z.ZodType> {
  /** Validates the payload on send and on receipt. Its output must survive a JSON round trip. */
  readonly payload: Schema;
  /** Retries after the first attempt. Default 2 (pg-boss's default). */
  readonly retryLimit?: number;
  /** Delay before a retry, in whole seconds. Default 0; at least 1 when `retryBackoff` is on. */
  readonly retryDelaySeconds?: number;
  /** Exponential backoff with jitter: the n-th retry waits about `retryDelay * 2^n` (1–2×). Default false. */
  readonly retryBackoff?: boolean;
  /** How long one attempt may run before it is failed (and its signal aborted). Default 900 (15 min). */
  readonly expireInSeconds?: number;
  /** How long a job may wait in the queue before it is archived unprocessed. Default 14 days. */
  readonly retentionSeconds?: number;
  /** Keep a copy of permanently failed payloads in `<name>.dead`. Default true. */
  readonly deadLetter?: boolean;
  /**
   * pg-boss queue policy. `standard` (default): every send is a job; `singletonKey` dedups only
   * together with `singletonSeconds` (one job per key per time slot). `short`: at most one queued
   * (`created`) job per `singletonKey` (jobs without a key share one slot). `singleton`: at most
   * one active job per key. `stately`: at most one job per key in each state up to active.
   */
  readonly policy?: QueuePolicy;
}

/** A job definition; `JobInput` / `JobPayload` give what `send` accepts and what a handler receives. */
export interface JobDefinition<Name extends string = string, Schema extends z.ZodType = z.ZodType> {
  readonly name: Name;
  readonly payload: Schema;
  readonly retryLimit: number;
  readonly retryDelaySeconds: number;
  readonly retryBackoff: boolean;
  readonly expireInSeconds: number;
  readonly retentionSeconds: number;
  readonly deadLetter: boolean;
  readonly policy: QueuePolicy;
}

/** Any job definition; the upper bound for registries. */
export type AnyJobDefinition = JobDefinition<string, z.ZodType>;
/** What `send` accepts for a definition. */
export type JobInput<D extends AnyJobDefinition> = z.input<D["payload"]>;
/** What a handler receives for a definition. */
export type JobPayload<D extends AnyJobDefinition> = z.output<D["payload"]>;
/** Name → payload map of a set of definitions (graphile-worker's `Tasks` shape), for documentation and tooling. */
export type JobPayloads<D extends AnyJobDefinition> = { [K in D as K["name"]]: JobPayload<K> };

const DEFAULTS = {
  retryLimit: 2,
  retryDelaySeconds: 0,
  retryBackoff: false,
  expireInSeconds: 15 * 60,
  retentionSeconds: 14 * 24 * 60 * 60,
  deadLetter: true,
  policy: "standard",
} as const;

// pg-boss rejects an expiry of 24 hours or more.
const MAX_EXPIRE_SECONDS = 24 * 60 * 60 - 1;

function invalidDefinition(name: string, problem: string): SondeError {
  return new SondeError("SONDE_CONFIG_INVALID", `job "${name}": ${problem}`, { meta: { job: name } });
}

function checkInteger(
  name: string,
  field: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidDefinition(name, `${field} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/**
 * Declares a job. Bad definitions fail here, at module load, not when the first job runs.
 *
 * @example
 *   export const syncInventory = defineJob("inventory.sync", {
 *     payload: z.object({ integrationId: z.uuid() }),
 *     retryLimit: 3, retryDelaySeconds: 30, retryBackoff: true,
 *   });
 */
export function defineJob<const Name extends string, Schema extends z.ZodType>(
  name: Name,
  spec: JobSpec<Schema>,
): JobDefinition<Name, Schema> {
  const problem = jobNameProblem(name);
  if (problem !== undefined) throw invalidDefinition(name, `name ${problem}`);
  const def = {
    name,
    payload: spec.payload,
    retryLimit: spec.retryLimit ?? DEFAULTS.retryLimit,
    retryDelaySeconds: spec.retryDelaySeconds ?? DEFAULTS.retryDelaySeconds,
    retryBackoff: spec.retryBackoff ?? DEFAULTS.retryBackoff,
    expireInSeconds: spec.expireInSeconds ?? DEFAULTS.expireInSeconds,
    retentionSeconds: spec.retentionSeconds ?? DEFAULTS.retentionSeconds,
    deadLetter: spec.deadLetter ?? DEFAULTS.deadLetter,
    policy: spec.policy ?? DEFAULTS.policy,
  };
  checkInteger(name, "retryLimit", def.retryLimit, 0, 1_000);
  checkInteger(name, "retryDelaySeconds", def.retryDelaySeconds, 0);
  checkInteger(name, "expireInSeconds", def.expireInSeconds, 1, MAX_EXPIRE_SECONDS);
  checkInteger(name, "retentionSeconds", def.retentionSeconds, 1);
  return Object.freeze(def);
}

/** A registry of definitions, keyed by name; duplicate names fail at start-up. */
export function indexDefinitions(
  definitions: readonly AnyJobDefinition[],
): ReadonlyMap<string, AnyJobDefinition> {
  const byName = new Map<string, AnyJobDefinition>();
  for (const def of definitions) {
    if (byName.has(def.name)) throw invalidDefinition(def.name, "is defined twice");
    byName.set(def.name, def);
  }
  return byName;
}

function pointerOf(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join(".");
}

/** Throws SONDE_JOB_PAYLOAD_INVALID naming the first offending field. */
function invalidPayload(job: string, where: string, issues: readonly z.core.$ZodIssue[]): SondeError {
  const first = issues[0];
  const field = first === undefined ? "" : pointerOf(first.path);
  const summary = issues.slice(0, 10).map((i) => `${pointerOf(i.path) || "(payload)"}: ${i.message}`);
  const what = field === "" ? "the payload" : `field "${field}"`;
  return new SondeError(
    "SONDE_JOB_PAYLOAD_INVALID",
    `invalid payload for job "${job}" (${where}): ${what}: ${first?.message ?? "invalid"}`,
    {
      meta: { job, field, issues: summary },
      pointer: first === undefined ? undefined : `/${first.path.map((p) => String(p)).join("/")}`,
    },
  );
}

/**
 * Validates a payload for sending and returns what will be stored: the parsed output after a JSON
 * round trip, re-validated, so that the worker is certain to accept what the sender was allowed to
 * send (a `Date`, a transform or an `undefined` that does not survive JSON fails here, not later).
 */
export function payloadForSend(def: AnyJobDefinition, input: unknown): Record<string, unknown> {
  const parsed = def.payload.safeParse(input);
  if (!parsed.success) throw invalidPayload(def.name, "send", parsed.error.issues);
  const json = JSON.stringify(parsed.data);
  // pg-boss stores the payload as jsonb and hands it back as given; a non-object would not round-trip
  // as the handler's argument in a way every schema accepts, so require an object (as pg-boss does).
  const wire: unknown = json === undefined ? undefined : JSON.parse(json);
  if (typeof wire !== "object" || wire === null || Array.isArray(wire)) {
    throw new SondeError("SONDE_JOB_PAYLOAD_INVALID", `payload for job "${def.name}" must be a JSON object`, {
      meta: { job: def.name, field: "" },
    });
  }
  const again = def.payload.safeParse(wire);
  if (!again.success) throw invalidPayload(def.name, "send, after JSON round trip", again.error.issues);
  return wire as Record<string, unknown>;
}

/** Validates a payload taken from the queue. */
export function payloadOnReceipt<D extends AnyJobDefinition>(def: D, data: unknown): JobPayload<D> {
  // The function form with an explicit type argument keeps the schema's own output type; a method
  // call on a generic, or inference, would widen it to the constraint's `unknown`.
  const parsed = z.safeParse<D["payload"]>(def.payload, data);
  if (!parsed.success) throw invalidPayload(def.name, "receipt", parsed.error.issues);
  return parsed.data;
}
