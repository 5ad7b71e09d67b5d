import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { type AnyJobDefinition, defineJob, type JobQueue } from "../../src/platform/jobs/index.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { useJobQueues } from "../support/job-queues.js";
import { serviceGate } from "../support/services.js";
import { sleep, waitFor } from "../support/wait.js";

const pingJob = defineJob("probe.ping", { payload: z.object({ n: z.number().int() }) });
const otherJob = defineJob("probe.other", { payload: z.object({}), retryLimit: 0 });

function pauseSuite(target: DatabaseTarget): void {
  describe(`job queue pause and inspection: ${target.name}`, () => {
    const { newQueue } = useJobQueues(target);

    it("holds a paused tenant queue's jobs while another tenant's run, and resume releases them", async () => {
      const queue = newQueue([pingJob]);
      await queue.start();
      const seen: string[] = [];
      for (const tenant of ["acme", "globex"]) {
        await queue.work(pingJob, async (p, ctx) => void seen.push(`${ctx.tenant}:${p.n}`), { tenant });
      }
      await queue.pause(pingJob, { tenant: "acme" });
      expect(await queue.isPaused(pingJob, { tenant: "acme" })).toBe(true);
      expect(await queue.isPaused(pingJob, { tenant: "globex" })).toBe(false);
      expect(await queue.isPaused(pingJob)).toBe(false);

      // A paused queue still accepts jobs.
      expect(await queue.send(pingJob, { n: 1 }, { tenant: "acme" })).not.toBeNull();
      expect(await queue.send(pingJob, { n: 2 }, { tenant: "globex" })).not.toBeNull();
      await waitFor(() => seen.includes("globex:2"), 10_000, "globex's job");
      await sleep(1_200); // a few polls of acme's worker: it must not fetch
      expect(seen).toEqual(["globex:2"]);
      expect(await queue.stats(pingJob, { tenant: "acme" })).toMatchObject({ created: 1, active: 0 });

      await queue.resume(pingJob, { tenant: "acme" });
      expect(await queue.isPaused(pingJob, { tenant: "acme" })).toBe(false);
      await waitFor(() => seen.includes("acme:1"), 10_000, "acme's job after resume");
      await waitFor(
        async () => (await queue.stats(pingJob, { tenant: "acme" })).completed === 1,
        5_000,
        "acme's job to be recorded as completed",
      );
    });

    it("shares the pause across processes through the database", async () => {
      const schema = `jobs_${randomBytes(5).toString("hex")}`;
      const a = newQueue([pingJob], { schema });
      const b = newQueue([pingJob], { schema });
      await a.start();
      await b.start();
      await a.pause(pingJob, { tenant: "acme" });
      const seen: number[] = [];
      await b.work(pingJob, async (p) => void seen.push(p.n), { tenant: "acme" });
      await a.send(pingJob, { n: 7 }, { tenant: "acme" });
      await sleep(1_500);
      expect(seen).toEqual([]);
      expect(await b.isPaused(pingJob, { tenant: "acme" })).toBe(true);
      await a.resume(pingJob, { tenant: "acme" });
      // b learns of the resume at its next refresh of the flags (within its polling interval).
      await waitFor(() => seen.length === 1, 10_000, "b to fetch after a resumed the queue");
      expect(seen).toEqual([7]);
    });

    it("lists queues with tenant, pause flag, counts by state and dead letters", async () => {
      const queue = newQueue([pingJob, otherJob]);
      await queue.start();
      await queue.send(pingJob, { n: 1 }, { tenant: "acme" });
      await queue.send(pingJob, { n: 2 }, { tenant: "acme" });
      await queue.send(pingJob, { n: 3 }, { tenant: "globex" });
      await queue.pause(pingJob, { tenant: "globex" });
      await queue.send(otherJob, {});
      const handle = await queue.work(otherJob, async () => {
        throw new Error("always fails");
      });
      await waitFor(async () => (await queue.stats(otherJob)).failed === 1, 10_000, "the failing job");
      await handle.stop();

      const list = await queue.queues();
      expect(list.map((q) => q.queue)).toEqual([
        "probe.other",
        "probe.ping",
        "probe.ping/acme",
        "probe.ping/globex",
      ]);
      const byName = new Map(list.map((q) => [q.queue, q]));
      expect(byName.get("probe.ping/acme")).toMatchObject({
        job: "probe.ping",
        tenant: "acme",
        paused: false,
        counts: { created: 2, active: 0, total: 2 },
        deadLetters: 0,
      });
      expect(byName.get("probe.ping/globex")).toMatchObject({
        tenant: "globex",
        paused: true,
        counts: { created: 1 },
      });
      expect(byName.get("probe.ping")).toMatchObject({ tenant: undefined, counts: { total: 0 } });
      expect(byName.get("probe.other")).toMatchObject({ counts: { failed: 1 }, deadLetters: 1 });
    });

    it("refuses to pause before start and for unregistered jobs", async () => {
      const queue = newQueue([pingJob]);
      await expect(queue.pause(pingJob)).rejects.toMatchObject({ code: "SONDE_JOB_QUEUE_NOT_RUNNING" });
      await queue.start();
      const unknown = queue as unknown as JobQueue<AnyJobDefinition>;
      await expect(unknown.pause(otherJob)).rejects.toMatchObject({ code: "SONDE_JOB_UNKNOWN_QUEUE" });
      await expect(queue.pause(pingJob, { tenant: "Not A Slug" })).rejects.toMatchObject({
        code: "SONDE_VALIDATION_FAILED",
      });
      // Idempotent both ways.
      await queue.pause(pingJob);
      await queue.pause(pingJob);
      expect(await queue.isPaused(pingJob)).toBe(true);
      await queue.resume(pingJob);
      await queue.resume(pingJob);
      expect(await queue.isPaused(pingJob)).toBe(false);
    });
  });
}

pauseSuite(embeddedTarget);
if (serviceGate("postgres").run) pauseSuite(postgresTarget);
