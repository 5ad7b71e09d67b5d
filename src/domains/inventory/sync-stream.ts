/**
 * The bus side of device sync: pollers and edge collectors publish device updates to
 * `sonde.<tenant slug>.sync` (sync-publish.ts); core consumes them from the SONDE_SYNC stream with a
 * durable consumer and feeds them to DIRE exactly as the HTTP route does. The tenant is the one the
 * subject names, never one the payload names: updates carry no tenant field at all. Every message
 * ends settled: acked when ingested, terminated when it can never succeed (unknown tenant, nothing
 * readable, a refusal) or must not (a suspended tenant's: its members cannot write through the API
 * either, and its collectors send their snapshot again every cycle once it is resumed), and nak'd for redelivery with backoff when the failure may pass (database
 * down), up to maxDeliver deliveries. Logs never contain the payload.
 */
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { systemActor } from "../../kernel/actor.js";
import { isSondeError } from "../../lib/errors.js";
import { SUBJECT_ROOT, subjectPattern } from "../../platform/bus/subjects.js";
import type { Bus, Consumer, StreamDefinition, StreamMessage } from "../../platform/bus/types.js";
import type { Orm } from "../../platform/db/types.js";
import { DEFAULT_SYNC_LIMITS, SyncBatches, type SyncLimits, type UpdateIngest } from "./sync-batches.js";
import { decodeSyncPayload } from "./sync-payload.js";
import { SYNC_AREA } from "./sync-publish.js";
import { TenantIdsBySlug, type TenantRow } from "./sync-tenants.js";

/**
 * Updates are snapshots that pollers send again every cycle, so an hour-old one is superseded: the
 * stream keeps messages an hour (and at most 100,000 of them; the in-process bus holds them in memory).
 */
export const SYNC_STREAM: StreamDefinition = {
  name: "SONDE_SYNC",
  subjects: [subjectPattern("*", SYNC_AREA)],
  maxAgeMs: 3_600_000,
  maxMsgs: 100_000,
};
export const SYNC_DURABLE = "core-sync";

export type SyncMessageOutcome =
  "ingested" | "unknown_tenant" | "suspended_tenant" | "malformed" | "retried" | "failed";

export interface SyncStreamOptions {
  readonly bus: Bus;
  readonly orm: Orm;
  readonly ingest: UpdateIngest;
  readonly logger: Logger;
  /** Where `sonde_sync_bus_messages_total` is registered; none: not exported. */
  readonly registry?: Registry;
  /** Durable consumer name; core instances share the default one, and so the messages. */
  readonly durable?: string;
  /** Deliveries of a message that keeps failing transiently before it is given up (default 5). */
  readonly maxDeliver?: number;
  /** First redelivery delay, doubled per delivery up to a minute (default 1 s). */
  readonly retryDelayMs?: number;
  /** Longer than a message of maxRecords updates takes to ingest, or it would be redelivered meanwhile. */
  readonly ackWaitMs?: number;
  readonly limits?: Partial<SyncLimits>;
  /** Told each settled message's outcome (tests wait on it). */
  readonly onOutcome?: (outcome: SyncMessageOutcome, msg: StreamMessage) => void;
}

const MAX_RETRY_DELAY_MS = 60_000;

/** `sonde.<slug>.sync` → slug; anything else the stream captured is not a sync subject. */
function tenantSlugOf(subject: string): string | undefined {
  const tokens = subject.split(".");
  return tokens.length === 3 && tokens[0] === SUBJECT_ROOT && tokens[2] === SYNC_AREA ? tokens[1] : undefined;
}

/** Creates the stream if needed and starts consuming it; stop() the returned consumer on shutdown. */
export async function startSyncStream(opts: SyncStreamOptions): Promise<Consumer> {
  const { bus, logger } = opts;
  const log = logger.child({ component: "sync-stream" });
  const maxDeliver = opts.maxDeliver ?? 5;
  const retryDelayMs = opts.retryDelayMs ?? 1_000;
  const limits: SyncLimits = { ...DEFAULT_SYNC_LIMITS, ...opts.limits };
  const tenants = new TenantIdsBySlug(opts.orm);
  const messages =
    opts.registry === undefined
      ? undefined
      : new Counter({
          name: "sonde_sync_bus_messages_total",
          help: "Device sync bus messages by outcome (ingested, unknown_tenant, suspended_tenant, malformed, retried, failed).",
          labelNames: ["outcome"] as const,
          registers: [opts.registry],
        });

  function settled(outcome: SyncMessageOutcome, msg: StreamMessage): void {
    messages?.inc({ outcome });
    opts.onOutcome?.(outcome, msg);
  }

  /** Terminates a message that can never succeed, saying why without its payload. */
  function drop(
    msg: StreamMessage,
    outcome: "unknown_tenant" | "suspended_tenant" | "malformed" | "failed",
    why: object,
  ): void {
    msg.term();
    log.warn({ subject: msg.subject, seq: msg.seq, outcome, ...why }, "sync message dropped");
    settled(outcome, msg);
  }

  /** A failure that may pass: redeliver with backoff, until maxDeliver deliveries. */
  function retry(msg: StreamMessage, err: unknown): void {
    const transient = !isSondeError(err) || err.retryable;
    if (!transient || msg.deliveryCount >= maxDeliver) {
      drop(msg, "failed", { err, deliveries: msg.deliveryCount });
      return;
    }
    const delay = Math.min(MAX_RETRY_DELAY_MS, retryDelayMs * 2 ** (msg.deliveryCount - 1));
    msg.nak(delay);
    log.warn({ subject: msg.subject, seq: msg.seq, err, delayMs: delay }, "sync message will be retried");
    settled("retried", msg);
  }

  async function handle(msg: StreamMessage): Promise<void> {
    const slug = tenantSlugOf(msg.subject);
    let tenant: TenantRow | undefined;
    try {
      tenant = slug === undefined ? undefined : await tenants.lookup(slug);
    } catch (err) {
      retry(msg, err);
      return;
    }
    if (tenant === undefined) {
      drop(msg, "unknown_tenant", { tenant: slug });
      return;
    }
    if (tenant.status === "suspended") {
      drop(msg, "suspended_tenant", { tenant: slug });
      return;
    }
    const tenantId = tenant.id;
    const decoded = await decodeSyncPayload(msg.data);
    if (decoded.kind === "malformed") {
      drop(msg, "malformed", { tenant: slug, reason: decoded.reason, bytes: msg.data.byteLength });
      return;
    }
    const batches = new SyncBatches(opts.ingest, { actor: systemActor("sync:bus"), tenantId }, limits);
    let report;
    try {
      for (const record of decoded.records) {
        if (record.kind === "value") await batches.add(record.value);
        else await batches.reject(record.reason);
      }
      report = await batches.finish();
    } catch (err) {
      // Chunks ingested before the failure are not undone: replaying them changes nothing.
      retry(msg, err);
      return;
    }
    msg.ack();
    const { rejected, ...counts } = report;
    log.info(
      { subject: msg.subject, seq: msg.seq, ...counts, firstRejections: rejected.slice(0, 5) },
      "sync message ingested",
    );
    settled("ingested", msg);
  }

  await bus.ensureStream(SYNC_STREAM);
  return bus.consume(SYNC_STREAM.name, opts.durable ?? SYNC_DURABLE, handle, {
    ackWaitMs: opts.ackWaitMs ?? 120_000,
    maxDeliver,
  });
}
