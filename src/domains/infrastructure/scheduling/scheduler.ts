import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import { Counter, Gauge, type Registry } from "prom-client";
import { systemActor } from "../../../kernel/actor.js";
import type { Kernel } from "../../../kernel/kernel.js";
import { tenants } from "../../../kernel/kernel.schema.js";
import { inScope } from "../../../kernel/tenancy/transaction.js";
import { subjectFor } from "../../../platform/bus/subjects.js";
import type { Bus } from "../../../platform/bus/types.js";
import type { Orm } from "../../../platform/db/types.js";
import type { WorkItem } from "../../../platform/fabric/contract.js";
import { Dispatcher, type UndispatchedReason } from "../../../platform/fabric/dispatcher.js";
import { acquireLease, type Lease } from "../../../platform/fabric/lease.js";
import { checkerResource } from "../resources/checker.js";
import { claimDueCheckers } from "./claim.js";
import { type DueChecker, workFor } from "./check-work.js";

export const SCHEDULER_ACTOR = systemActor("check-scheduler");
export const SCHEDULER_LEASE = "check-scheduler";

export interface CheckSchedulerOptions {
  readonly kernel: Kernel;
  readonly orm: Orm;
  readonly bus: Bus;
  readonly logger: Logger;
  /** This core instance, as the lease holder. */
  readonly holderId: string;
  /** How often the leader looks for due checkers (default 1 s). */
  readonly tickMs?: number;
  /** A silent leader is replaced within leaseTtlMs + leaseTtlMs/3 (default 15 s). */
  readonly leaseTtlMs?: number;
  /** Checkers claimed per tenant and tick (default 500). */
  readonly claimLimit?: number;
  /** Runs of one due time before it counts as lost (default 3). */
  readonly maxAttempts?: number;
  /** Time after a work item's own timeout within which its result must arrive (default 5 s). */
  readonly resultGraceMs?: number;
  /** A run that never reported: counted as a failure of its checker (result processing does it). */
  readonly onLost?: (tenant: string, work: WorkItem) => Promise<void>;
  readonly dispatcher?: Dispatcher;
  readonly registry?: Registry;
  /** The lease's name (SCHEDULER_LEASE): one per deployment sharing the bus. */
  readonly leaseName?: string;
  /** The lease bucket (LEASE_BUCKET); tests use one of their own. */
  readonly leaseBucket?: string;
}

interface InFlight {
  work: WorkItem;
  /** When its result is overdue, on this clock. */
  deadline: number;
  accepted: boolean;
}

/**
 * Core's check scheduler. Exactly one core instance leads (a lease in the bus KV); the leader claims
 * due checkers tenant by tenant, dispatches each run to its partition's pollers, and watches for its
 * result: a run accepted by a poller that then dies (no result by the deadline) is dispatched again
 * with the next attempt number and the same id, until maxAttempts. Followers only contend for the
 * lease; when the leader stops renewing, one of them takes over within the lease's bound.
 */
export class CheckScheduler {
  readonly #inFlight = new Map<string, InFlight>();
  readonly #dispatcher: Dispatcher;
  readonly #metrics: { dispatched: Counter; undispatched: Counter; lost: Counter; leader: Gauge } | undefined;
  #lease: Lease | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;

  constructor(private readonly opts: CheckSchedulerOptions) {
    this.#dispatcher =
      opts.dispatcher ??
      new Dispatcher(opts.bus, {
        logger: opts.logger,
        onUndispatched: (work, reason, detail) => this.#undispatched(work, reason, detail),
        onAccepted: (work) => {
          const entry = this.#inFlight.get(work.id);
          if (entry !== undefined) entry.accepted = true;
        },
      });
    const registers = opts.registry === undefined ? undefined : [opts.registry];
    this.#metrics =
      registers === undefined
        ? undefined
        : {
            dispatched: new Counter({
              name: "sonde_checks_dispatched_total",
              help: "Check runs dispatched to pollers (retries of a lost run included).",
              registers,
            }),
            undispatched: new Counter({
              name: "sonde_checks_undispatched_total",
              help: "Dispatch rounds that found no poller to take a run, by reason.",
              labelNames: ["reason"] as const,
              registers,
            }),
            lost: new Counter({
              name: "sonde_checks_lost_total",
              help: "Check runs that never reported a result after every attempt.",
              registers,
            }),
            leader: new Gauge({
              name: "sonde_check_scheduler_leader",
              help: "1 while this core instance holds the scheduling lease.",
              registers,
            }),
          };
  }

  async start(): Promise<void> {
    const log = this.opts.logger.child({ component: "check-scheduler" });
    this.#lease = await acquireLease(
      this.opts.bus,
      this.opts.leaseName ?? SCHEDULER_LEASE,
      this.opts.holderId,
      {
        ttlMs: this.opts.leaseTtlMs ?? 15_000,
        logger: log,
        ...(this.opts.leaseBucket === undefined ? {} : { bucket: this.opts.leaseBucket }),
        onAcquired: () => {
          log.info({ holder: this.opts.holderId }, "this core instance schedules checks");
          this.#metrics?.leader.set(1);
        },
        onLost: (reason) => {
          log.warn({ holder: this.opts.holderId, reason }, "this core instance no longer schedules checks");
          this.#metrics?.leader.set(0);
          // Another leader re-dispatches what is due; what this one had in flight is its to watch now.
          this.#inFlight.clear();
        },
      },
    );
    this.#timer = setInterval(() => {
      if (this.#ticking !== undefined) return;
      this.#ticking = this.tick()
        .catch((err: unknown) => log.error({ err }, "scheduling tick failed"))
        .finally(() => {
          this.#ticking = undefined;
        });
    }, this.opts.tickMs ?? 1_000);
    this.#timer.unref();
  }

  isLeader(): boolean {
    return this.#lease?.isLeader() ?? false;
  }

  /** Runs being watched for a result (tests, the cluster view). */
  inFlight(): readonly WorkItem[] {
    return [...this.#inFlight.values()].map((e) => e.work);
  }

  /** A result arrived (from any core's result processing): the run is no longer watched. */
  settled(workId: string): void {
    this.#inFlight.delete(workId);
  }

  /** One scheduling round; does nothing unless this instance leads. */
  async tick(): Promise<void> {
    if (this.#stopped || !this.isLeader()) return;
    await this.#retryOverdue();
    for (const tenant of await this.#activeTenants()) {
      if (!this.isLeader()) return;
      const due = await this.opts.kernel.bulk(
        this.opts.kernel.resource(checkerResource.name),
        "claim_due",
        { actor: SCHEDULER_ACTOR, tenantId: tenant.id },
        async ({ tx }) => ({ result: await claimDueCheckers(tx, this.opts.claimLimit ?? 500), events: [] }),
      );
      await Promise.all(due.map((c) => this.#dispatch(workFor(tenant.slug, c as DueChecker))));
    }
  }

  async #dispatch(work: WorkItem): Promise<void> {
    const grace = this.opts.resultGraceMs ?? 5_000;
    const existing = this.#inFlight.get(work.id);
    this.#inFlight.set(work.id, {
      work,
      deadline: Date.now() + work.timeout_ms + grace,
      accepted: existing?.accepted ?? false,
    });
    this.#metrics?.dispatched.inc();
    const outcome = await this.#dispatcher.dispatch(work);
    if (outcome.status === "accepted") {
      const entry = this.#inFlight.get(work.id);
      if (entry !== undefined) entry.accepted = true;
    }
  }

  /** Accepted runs whose result is overdue go out again; after maxAttempts they are given up as lost. */
  async #retryOverdue(): Promise<void> {
    const now = Date.now();
    const max = this.opts.maxAttempts ?? 3;
    const overdue = [...this.#inFlight.values()].filter((e) => e.accepted && e.deadline < now);
    for (const entry of overdue) {
      this.#inFlight.delete(entry.work.id);
      if (entry.work.attempt >= max) {
        this.#metrics?.lost.inc();
        this.opts.logger.warn({ work: entry.work.id, attempts: entry.work.attempt }, "check run lost");
        await this.opts.onLost?.(entry.work.tenant, entry.work);
        continue;
      }
      this.opts.logger.info(
        { work: entry.work.id, attempt: entry.work.attempt + 1 },
        "no result for an accepted run: dispatching it again",
      );
      await this.#dispatch({ ...entry.work, attempt: entry.work.attempt + 1 });
    }
  }

  #undispatched(work: WorkItem, reason: UndispatchedReason, detail: string): void {
    this.#metrics?.undispatched.inc({ reason });
    this.opts.logger.warn(
      { work: work.id, partition: work.partition, reason, detail },
      "check run undispatched",
    );
    // Surfaced on the tenant's infra subject; the alert that follows it comes with alerting.
    const subject = subjectFor(work.tenant, "infra", "dispatch", "undispatched");
    void this.opts.bus
      .publish(
        subject,
        JSON.stringify({
          work_id: work.id,
          partition: work.partition,
          reason,
          detail,
          at: new Date().toISOString(),
        }),
      )
      .catch((err: unknown) => this.opts.logger.warn({ err }, "could not publish an undispatched event"));
  }

  async #activeTenants(): Promise<{ id: string; slug: string }[]> {
    return inScope(this.opts.orm, { tenantId: null, bypass: false }, (tx) =>
      tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants).where(eq(tenants.status, "active")),
    );
  }

  /** Stops scheduling and hands the lease over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#ticking;
    this.#dispatcher.stop();
    await this.#lease?.release();
    this.#metrics?.leader.set(0);
  }

  /** Stops without releasing the lease, as a crashed process would (failover drills, tests). */
  async abandon(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#ticking;
    this.#dispatcher.stop();
    this.#lease?.abandon();
  }
}
