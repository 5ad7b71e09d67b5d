import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { isSondeError, type SondeError } from "../../src/lib/errors.js";
import {
  defineJob,
  type JobContext,
  type JobPayloads,
  type JobQueue,
  type JobStats,
} from "../../src/platform/jobs/index.js";
import { hasSeveralStatements } from "../../src/platform/jobs/sql-text.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { useJobQueues } from "../support/job-queues.js";
import { serviceGate } from "../support/services.js";
import { sleep, waitFor } from "../support/wait.js";

// --- job definitions used by the suite ------------------------------------------------------------

const probeJob = defineJob("probe.deliver", {
  payload: z.object({ deviceId: z.string().min(1), count: z.number().int().default(1) }),
});

const flakyJob = defineJob("probe.flaky", {
  payload: z.object({ attemptLog: z.string() }),
  retryLimit: 2,
  retryDelaySeconds: 1,
  retryBackoff: true,
});

const shortJob = defineJob("probe.short", {
  payload: z.object({ deviceId: z.string() }),
  policy: "short",
});

const outcomeJob = defineJob("probe.outcome", {
  payload: z.object({ outcome: z.enum(["ok", "fail", "hold"]) }),
  retryLimit: 0,
  deadLetter: false,
});

const slowRetryJob = defineJob("probe.slow-retry", {
  payload: z.object({}),
  retryLimit: 1,
  retryDelaySeconds: 3600,
});

const datedJob = defineJob("probe.dated", { payload: z.object({ at: z.date() }) });

const expiringJob = defineJob("probe.expiring", { payload: z.object({}), expireInSeconds: 1, retryLimit: 0 });

type AllJobs = [
  typeof probeJob,
  typeof flakyJob,
  typeof shortJob,
  typeof outcomeJob,
  typeof slowRetryJob,
  typeof datedJob,
  typeof expiringJob,
];

// Compile-time checks of the registry's typing (tsc runs over test/): the payload map, and that
// `send` and `work` are tied to the definition's schema.
const payloadMap: JobPayloads<AllJobs[number]>["probe.deliver"] = { deviceId: "d", count: 1 };
void payloadMap;

/** Whether every count in `expected` is as given (order-independent). */
function countsAre(stats: JobStats, expected: Partial<JobStats>): boolean {
  return Object.entries(expected).every(([state, n]) => stats[state as keyof JobStats] === n);
}

function codeOf(err: unknown): string | undefined {
  return isSondeError(err) ? err.code : undefined;
}

async function rejection(promise: Promise<unknown>): Promise<SondeError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSondeError(err)) throw new Error(`expected a SondeError, got ${String(err)}`);
  return err;
}

/** One suite, run against every database adapter. */
function jobSuite(target: DatabaseTarget): void {
  describe(`job queue: ${target.name}`, () => {
    const { db, newQueue } = useJobQueues(target);

    async function queueNames(schema: string): Promise<string[]> {
      const res = await db().db.query<{ name: string }>(`select name from ${schema}.queue order by name`);
      return res.rows.map((r) => r.name);
    }

    it("creates pg-boss's schema, each job's queue and its dead-letter queue on start", async () => {
      const schema = `jobs_${randomBytes(5).toString("hex")}`;
      const queue = newQueue([probeJob, outcomeJob], { schema });
      await expect(queue.ping()).rejects.toMatchObject({ code: "SONDE_JOB_QUEUE_NOT_RUNNING" });
      await queue.start();
      await queue.ping();
      const names = await queueNames(schema);
      expect(names).toEqual(expect.arrayContaining(["probe.deliver", "probe.deliver.dead", "probe.outcome"]));
      // outcomeJob opted out of a dead letter.
      expect(names).not.toContain("probe.outcome.dead");
    });

    it("delivers a typed, validated payload from send to work", async () => {
      const queue = newQueue([probeJob]);
      await queue.start();
      const seen: { payload: { deviceId: string; count: number }; ctx: JobContext }[] = [];
      await queue.work(probeJob, async (payload, ctx) => {
        seen.push({ payload, ctx });
      });
      const id = await queue.send(probeJob, { deviceId: "dev-1" });
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      await waitFor(() => seen.length === 1, 10_000, "the job to be handled");
      // The default was applied on send; the handler sees the schema's output type.
      expect(seen[0]?.payload).toEqual({ deviceId: "dev-1", count: 1 });
      expect(seen[0]?.ctx).toMatchObject({
        id,
        queue: "probe.deliver",
        attempt: 1,
        retryCount: 0,
        tenant: undefined,
      });
      expect(seen[0]?.ctx.signal.aborted).toBe(false);
      await waitFor(
        async () => (await queue.stats(probeJob)).completed === 1,
        5_000,
        "completion to be recorded",
      );
    });

    it("rejects an invalid payload on send with SONDE_JOB_PAYLOAD_INVALID naming the field", async () => {
      const queue = newQueue([probeJob, datedJob]);
      await queue.start();
      // @ts-expect-error deviceId must be a string: the registry types send() per job.
      const wrongType = await rejection(queue.send(probeJob, { deviceId: 42 }));
      expect(wrongType.code).toBe("SONDE_JOB_PAYLOAD_INVALID");
      expect(wrongType.meta?.field).toBe("deviceId");
      expect(wrongType.message).toContain('field "deviceId"');
      expect(wrongType.pointer).toBe("/deviceId");

      // A Date passes the schema but not a JSON round trip: refused on send, not dead-lettered later.
      const dated = await rejection(queue.send(datedJob, { at: new Date() }));
      expect(dated.code).toBe("SONDE_JOB_PAYLOAD_INVALID");
      expect(dated.meta?.field).toBe("at");

      expect((await queue.stats(probeJob)).total).toBe(0);
    });

    it("refuses jobs that were never registered with SONDE_JOB_UNKNOWN_QUEUE", async () => {
      const queue = newQueue([probeJob]);
      await queue.start();
      // @ts-expect-error outcomeJob is not one of this queue's definitions.
      expect(codeOf(await queue.send(outcomeJob, { outcome: "ok" }).catch((e: unknown) => e))).toBe(
        "SONDE_JOB_UNKNOWN_QUEUE",
      );
      // @ts-expect-error as above, for work().
      const work = queue.work(outcomeJob, async () => {});
      expect(codeOf(await work.catch((e: unknown) => e))).toBe("SONDE_JOB_UNKNOWN_QUEUE");
      // Same name, different definition (another schema): refused rather than trusted.
      const impostor = defineJob("probe.deliver", { payload: z.object({ other: z.boolean() }) });
      const widened: JobQueue = queue;
      expect(codeOf(await widened.send(impostor, { other: true }).catch((e: unknown) => e))).toBe(
        "SONDE_JOB_UNKNOWN_QUEUE",
      );
    });

    it("retries a failing handler with backoff, then dead-letters its payload", async () => {
      const queue = newQueue([flakyJob]);
      await queue.start();
      const attempts: { attempt: number; at: number }[] = [];
      await queue.work(flakyJob, async (_payload, ctx) => {
        attempts.push({ attempt: ctx.attempt, at: Date.now() });
        throw new Error(`boom ${ctx.attempt}`);
      });
      await queue.send(flakyJob, { attemptLog: "flaky-1" });
      await waitFor(async () => (await queue.deadLetters(flakyJob)).length === 1, 20_000, "a dead letter");

      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      const [first, second, third] = attempts.map((a) => a.at);
      // retryDelay 1s with backoff: the first retry waits 1–2s, the second 2–4s.
      expect((second ?? 0) - (first ?? 0)).toBeGreaterThanOrEqual(900);
      expect((third ?? 0) - (second ?? 0)).toBeGreaterThanOrEqual(1_800);

      const [dead] = await queue.deadLetters(flakyJob);
      expect(dead?.queue).toBe("probe.flaky.dead");
      expect(dead?.payload).toEqual({ attemptLog: "flaky-1" });
      expect(dead?.error).toMatchObject({ message: "boom 3" });
      expect(await queue.stats(flakyJob)).toMatchObject({ failed: 1, retry: 0, active: 0, total: 1 });
    });

    it("fails a job whose payload no longer validates on receipt, without retries, into the dead letter", async () => {
      const schema = `jobs_${randomBytes(5).toString("hex")}`;
      // An older release sent { n: number }; this release's definition expects a string.
      const before = defineJob("probe.drift", { payload: z.object({ n: z.number() }), retryLimit: 3 });
      const after = defineJob("probe.drift", { payload: z.object({ n: z.string() }), retryLimit: 3 });
      const sender = newQueue([before], { schema });
      await sender.start();
      await sender.send(before, { n: 1 });
      await sender.stop();

      const receiver = newQueue([after], { schema });
      await receiver.start();
      let called = 0;
      await receiver.work(after, async () => {
        called += 1;
      });
      await waitFor(async () => (await receiver.deadLetters(after)).length === 1, 10_000, "a dead letter");
      expect(called).toBe(0);
      const [dead] = await receiver.deadLetters(after);
      expect(dead?.payload).toEqual({ n: 1 });
      expect(dead?.error).toMatchObject({ code: "SONDE_JOB_PAYLOAD_INVALID" });
      expect(await receiver.stats(after)).toMatchObject({ failed: 1, retry: 0, total: 1 });
    });

    it("registers, lists and removes a cron schedule", async () => {
      const queue = newQueue([probeJob]);
      await queue.start();
      await queue.schedule(probeJob, "*/5 * * * *", { deviceId: "cron-dev" }, { tz: "Europe/Berlin" });
      expect(await queue.schedules()).toEqual([
        {
          queue: "probe.deliver",
          job: "probe.deliver",
          tenant: undefined,
          cron: "*/5 * * * *",
          timezone: "Europe/Berlin",
          payload: { deviceId: "cron-dev", count: 1 },
        },
      ]);
      const badCron = await rejection(queue.schedule(probeJob, "every tuesday", { deviceId: "x" }));
      expect(badCron.code).toBe("SONDE_VALIDATION_FAILED");
      const badPayload = await rejection(queue.schedule(probeJob, "* * * * *", { deviceId: "" }));
      expect(badPayload.code).toBe("SONDE_JOB_PAYLOAD_INVALID");
      await queue.unschedule(probeJob);
      expect(await queue.schedules()).toEqual([]);
    });

    it("turns a due cron schedule into a job without waiting for the next minute", async () => {
      // "* * * * *" was due at the start of this minute; pg-boss sends a schedule whose last fire time
      // is under 60s old, once per minute, at its next check (here every second).
      const queue = newQueue([probeJob], { cronIntervalSeconds: 1 });
      await queue.start();
      const seen: string[] = [];
      await queue.work(probeJob, async (payload) => {
        seen.push(payload.deviceId);
      });
      await queue.schedule(probeJob, "* * * * *", { deviceId: "from-cron" });
      await waitFor(() => seen.length >= 1, 15_000, "the scheduled job to run");
      expect(seen[0]).toBe("from-cron");
    });

    it("drops duplicate sends by singletonKey", async () => {
      const queue = newQueue([shortJob, probeJob]);
      await queue.start();
      // policy "short": one queued job per key.
      const first = await queue.send(shortJob, { deviceId: "a" }, { singletonKey: "dev-a" });
      const again = await queue.send(shortJob, { deviceId: "a" }, { singletonKey: "dev-a" });
      const other = await queue.send(shortJob, { deviceId: "b" }, { singletonKey: "dev-b" });
      expect(first).not.toBeNull();
      expect(again).toBeNull();
      expect(other).not.toBeNull();
      expect((await queue.stats(shortJob)).created).toBe(2);

      // policy "standard": a key dedups within a time slot.
      const slotted = { singletonKey: "dev-a", singletonSeconds: 3600 };
      expect(await queue.send(probeJob, { deviceId: "a" }, slotted)).not.toBeNull();
      expect(await queue.send(probeJob, { deviceId: "a" }, slotted)).toBeNull();
      // …and without a slot it would be silently ignored by pg-boss, so it is refused.
      const keyOnly = await rejection(queue.send(probeJob, { deviceId: "a" }, { singletonKey: "dev-a" }));
      expect(keyOnly.code).toBe("SONDE_VALIDATION_FAILED");
    });

    it("counts jobs by state", async () => {
      const queue = newQueue([outcomeJob, slowRetryJob]);
      await queue.start();
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      await queue.work(
        outcomeJob,
        async ({ outcome }) => {
          if (outcome === "fail") throw new Error("planned failure");
          if (outcome === "hold") await held;
        },
        { batchSize: 5 },
      );
      await queue.work(slowRetryJob, async () => {
        throw new Error("retry in an hour");
      });
      await queue.send(outcomeJob, { outcome: "ok" });
      await queue.send(outcomeJob, { outcome: "fail" });
      await queue.send(outcomeJob, { outcome: "hold" });
      await queue.send(outcomeJob, { outcome: "ok" }, { startAfter: 3600 });
      await queue.send(slowRetryJob, {});

      const expected = { created: 1, retry: 0, active: 1, completed: 1, cancelled: 0, failed: 1, total: 4 };
      await waitFor(async () => countsAre(await queue.stats(outcomeJob), expected), 10_000, "outcome counts");
      await waitFor(
        async () => (await queue.stats(slowRetryJob)).retry === 1,
        10_000,
        "a job waiting to retry",
      );
      release();
      await waitFor(async () => (await queue.stats(outcomeJob)).completed === 2, 5_000, "the held job");
    });

    it("stop() waits for an in-flight handler", async () => {
      const queue = newQueue([probeJob]);
      await queue.start();
      let started = false;
      let finished = false;
      await queue.work(probeJob, async () => {
        started = true;
        await sleep(400);
        finished = true;
      });
      await queue.send(probeJob, { deviceId: "slow" });
      await waitFor(() => started, 10_000, "the handler to start");
      await queue.stop({ graceMs: 5_000 });
      expect(finished).toBe(true);
      expect((await queue.stats(probeJob)).completed).toBe(1);
      await expect(queue.ping()).rejects.toMatchObject({ code: "SONDE_JOB_QUEUE_NOT_RUNNING" });
      await expect(queue.send(probeJob, { deviceId: "late" })).rejects.toMatchObject({
        code: "SONDE_JOB_QUEUE_NOT_RUNNING",
      });
    });

    it("stop() aborts a handler that outlives graceMs and fails its attempt for a later retry", async () => {
      const queue = newQueue([slowRetryJob]);
      await queue.start();
      let signal: AbortSignal | undefined;
      await queue.work(slowRetryJob, (_payload, ctx) => {
        signal = ctx.signal;
        // Never finishes on its own; ends only when told to.
        return new Promise<void>((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        });
      });
      await queue.send(slowRetryJob, {});
      await waitFor(() => signal !== undefined, 10_000, "the handler to start");
      const began = Date.now();
      await queue.stop({ graceMs: 200 });
      expect(Date.now() - began).toBeLessThan(3_000);
      expect(signal?.aborted).toBe(true);
      expect(codeOf(signal?.reason)).toBe("SONDE_SHUTTING_DOWN");
      expect(await queue.stats(slowRetryJob)).toMatchObject({ retry: 1, active: 0 });
    });

    it("aborts an attempt that exceeds expireInSeconds and fails it", async () => {
      const queue = newQueue([expiringJob]);
      await queue.start();
      let signal: AbortSignal | undefined;
      await queue.work(expiringJob, (_payload, ctx) => {
        signal = ctx.signal;
        return new Promise<void>((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        });
      });
      await queue.send(expiringJob, {});
      await waitFor(
        async () => (await queue.deadLetters(expiringJob)).length === 1,
        10_000,
        "the expired job",
      );
      expect(signal?.aborted).toBe(true);
      const [dead] = await queue.deadLetters(expiringJob);
      expect(dead?.error).toMatchObject({ name: "AttemptTimeoutError" });
      expect(await queue.stats(expiringJob)).toMatchObject({ failed: 1, active: 0 });
    });

    it("keeps tenant queues apart", async () => {
      const queue = newQueue([probeJob]);
      await queue.start();
      const seenByB: { deviceId: string; tenant: string | undefined; queue: string }[] = [];
      await queue.work(
        probeJob,
        async (payload, ctx) => {
          seenByB.push({ deviceId: payload.deviceId, tenant: ctx.tenant, queue: ctx.queue });
        },
        { tenant: "tenant-b" },
      );
      await queue.send(probeJob, { deviceId: "for-a" }, { tenant: "tenant-a" });
      await queue.send(probeJob, { deviceId: "for-b" }, { tenant: "tenant-b" });
      await queue.send(probeJob, { deviceId: "untenanted" });
      await waitFor(() => seenByB.length === 1, 10_000, "tenant b's job");
      // Give b's worker a few more polls: it must not pick up a's (or the shared queue's) job.
      await sleep(1_200);
      expect(seenByB).toEqual([{ deviceId: "for-b", tenant: "tenant-b", queue: "probe.deliver/tenant-b" }]);
      expect((await queue.stats(probeJob, { tenant: "tenant-a" })).created).toBe(1);
      expect((await queue.stats(probeJob)).created).toBe(1);

      const seenByA: string[] = [];
      await queue.work(probeJob, async (payload) => void seenByA.push(payload.deviceId), {
        tenant: "tenant-a",
      });
      await waitFor(() => seenByA.length === 1, 10_000, "tenant a's job");
      expect(seenByA).toEqual(["for-a"]);

      const bad = await rejection(queue.send(probeJob, { deviceId: "x" }, { tenant: "Not A Slug" }));
      expect(bad.code).toBe("SONDE_VALIDATION_FAILED");
      expect(bad.meta?.field).toBe("tenant");
    });

    it("brings up two queues starting at once on one schema, and both work", async () => {
      // Both see no schema and both try to create it; the loser's script fails inside pg-boss's
      // transaction, and the adapter's rollback must leave the connection usable.
      const schema = `jobs_${randomBytes(5).toString("hex")}`;
      const a = newQueue([probeJob], { schema });
      const b = newQueue([probeJob], { schema });
      await Promise.all([a.start(), b.start()]);
      const seen: string[] = [];
      await b.work(probeJob, async (payload) => void seen.push(payload.deviceId));
      await a.send(probeJob, { deviceId: "across" });
      await waitFor(() => seen.length === 1, 10_000, "the job sent by a to reach b");
      await db().db.ping();
    });
  });
}

describe("hasSeveralStatements", () => {
  it("tells one statement from several, ignoring semicolons in strings, comments and $$ bodies", () => {
    expect(hasSeveralStatements("select 1")).toBe(false);
    expect(hasSeveralStatements("select 1;  \n")).toBe(false);
    expect(hasSeveralStatements("select ';' as a -- ; not a statement\n")).toBe(false);
    expect(
      hasSeveralStatements("create function f() returns int as $$ begin return 1; end; $$ language plpgsql"),
    ).toBe(false);
    expect(hasSeveralStatements("select $tag$ ; $tag$ /* ; /* nested ; */ */")).toBe(false);
    expect(hasSeveralStatements("BEGIN; select 1; COMMIT;")).toBe(true);
    expect(hasSeveralStatements("select 'it''s'; select 2")).toBe(true);
  });
});

jobSuite(embeddedTarget);
if (serviceGate("postgres").run) jobSuite(postgresTarget);
