import { randomBytes } from "node:crypto";
import { boolean, integer, pgTable, text, uuid } from "drizzle-orm/pg-core";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { Kernel } from "../../src/kernel/kernel.js";
import { tenants } from "../../src/kernel/kernel.schema.js";
import {
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  roleAtLeast,
} from "../../src/kernel/policy/checks.js";
import { defineResource } from "../../src/kernel/resource/define.js";
import { tenantRlsSql } from "../../src/kernel/tenancy/rls.js";
import {
  createTriggerRunner,
  defineTrigger,
  triggerJobDefinitions,
  triggerJobs,
  type TriggerRunner,
} from "../../src/kernel/triggers/index.js";
import { createJobQueue, defineJob, type JobQueue } from "../../src/platform/jobs/index.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { comments, type Fixture, notes, setupKernel } from "../support/kernel-fixtures.js";
import { serviceGate } from "../support/services.js";
import { waitFor } from "../support/wait.js";

// A test-only resource whose action can be made to fail (by validation), for retries and onError;
// everything else runs on the notes fixture.
const tasksTable = pgTable("trigger_tasks", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenant_id: uuid("tenant_id").notNull(),
  title: text("title").notNull(),
  state: text("state").notNull().default("open"),
  priority: integer("priority").notNull().default(0),
  explode: boolean("explode").notNull().default(false),
});

const TASKS_DDL = `
create table trigger_tasks (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants(id) on delete cascade,
  title text not null,
  state text not null default 'open',
  priority integer not null default 0,
  explode boolean not null default false
);
${tenantRlsSql("trigger_tasks")}
`;

const tasks = defineResource({
  name: "task",
  table: tasksTable,
  tenancy: "tenant",
  actions: {
    read: { type: "read" },
    create: { type: "create", accept: ["title", "priority", "explode"] },
    update: { type: "update", accept: ["priority", "explode"] },
    // Fails by validation on rows marked `explode`: the failing action of the retry test.
    archive: {
      type: "update",
      validations: [
        (_v, ctx) =>
          ctx.record?.explode === true ? { field: "explode", message: "refuses to archive" } : undefined,
      ],
    },
    give_up: { type: "update" },
  },
  stateMachine: {
    attribute: "state",
    initial: "open",
    states: ["open", "archived", "failed"],
    transitions: [
      { action: "archive", from: ["open"], to: "archived" },
      { action: "give_up", from: ["open"], to: "failed" },
    ],
  },
  policies: [
    bypass(isSystemActor()),
    policy(actionType("read"), authorizeIf(roleAtLeast("viewer"))),
    policy(actionType("create", "update"), authorizeIf(roleAtLeast("operator"))),
  ],
});

// Archive drafts whose priority is above 5.
const archiveHot = defineTrigger({
  name: "archive_hot",
  resource: notes,
  action: "archive",
  where: {
    and: [
      { field: "state", op: "eq", value: "draft" },
      { field: "priority", op: "gt", value: 5 },
    ],
  },
  cron: "*/5 * * * *",
  batchSize: 2, // several keyset pages with a handful of rows
});

const archiveExploding = defineTrigger({
  name: "archive_exploding",
  resource: tasks,
  action: "archive",
  where: {
    and: [
      { field: "state", op: "eq", value: "open" },
      { field: "explode", op: "eq", value: true },
    ],
  },
  cron: "0 * * * *",
  maxAttempts: 2,
  onError: "give_up",
});

const TRIGGERS = [archiveHot, archiveExploding];
const SLUGS = ["acme", "globex", "initech"];
// Another job on the same queue: the runner takes any queue whose definitions include the triggers'.
const unrelatedJob = defineJob("test.unrelated", { payload: z.object({}) });

function suite(target: DatabaseTarget) {
  describe(`triggers: ${target.name}`, () => {
    let t: TestDatabase;
    let f: Fixture;
    let kernel: Kernel;
    let jobs: JobQueue<typeof unrelatedJob | ReturnType<typeof triggerJobDefinitions>[number]>;
    let runner: TriggerRunner;
    const schema = `jobs_${randomBytes(5).toString("hex")}`;
    const run = triggerJobs(archiveHot).run;

    beforeAll(async () => {
      t = await target.open();
      f = await setupKernel(t.db);
      await t.db.exec(TASKS_DDL);
      kernel = new Kernel({ orm: t.db.orm, resources: [notes, comments, tasks], logger: silentLogger });
      jobs = createJobQueue({
        db: t.db,
        logger: silentLogger,
        definitions: [unrelatedJob, ...triggerJobDefinitions(TRIGGERS)],
        schema,
        pollingIntervalSeconds: 0.5,
      });
      await jobs.start();
      runner = createTriggerRunner({ kernel, orm: t.db.orm, jobs, logger: silentLogger, triggers: TRIGGERS });
      await runner.start();
    });
    afterEach(async () => {
      for (const tenant of SLUGS) {
        for (const trigger of TRIGGERS) await jobs.resume(triggerJobs(trigger).run, { tenant });
      }
      await t.db.query("delete from trigger_tasks");
      await t.db.query("delete from notes");
      // Leftover jobs now find no row and complete; wait, so that the next test starts from empty queues.
      await waitFor(
        async () =>
          (await jobs.queues())
            .filter((q) => q.job.startsWith("trigger."))
            .every((q) => q.counts.created + q.counts.retry + q.counts.active === 0),
        15_000,
        "the trigger queues to drain",
      );
    });
    afterAll(async () => {
      await runner?.stop();
      await jobs?.stop({ graceMs: 1_000 });
      await t?.dispose();
    });

    async function createTask(tenantId: string, values: Record<string, unknown>): Promise<string> {
      const created = await kernel.create(
        kernel.resource("task"),
        { actor: f.actor(tenantId, "operator") },
        {
          title: `task-${randomBytes(4).toString("hex")}`,
          ...values,
        },
      );
      return String(created.id);
    }

    async function createNote(tenantId: string, values: Record<string, unknown>): Promise<string> {
      const created = await kernel.create(
        kernel.resource("notes"),
        { actor: f.actor(tenantId, "admin") },
        {
          title: `note-${randomBytes(4).toString("hex")}`,
          owner_id: "someone",
          ...values,
        },
      );
      return String(created.id);
    }

    /** A note's or a task's state, read as the owner (no RLS), whichever table holds the id. */
    async function stateOf(id: string): Promise<string | undefined> {
      const res = await t.db.query<{ state: string }>(
        "select state from notes where id = $1 union all select state from trigger_tasks where id = $1",
        [id],
      );
      return res.rows[0]?.state;
    }

    /** Row ids with a job of `queue` in one of `states`, sorted. */
    async function jobIds(queue: string, states: readonly string[] = ["created"]): Promise<string[]> {
      const res = await t.db.query<{ id: string }>(
        `select data->>'id' as id from ${schema}.job where name = $1 and state::text = any($2::text[]) order by 1`,
        [queue, [...states]],
      );
      return res.rows.map((r) => r.id);
    }

    async function transitionsOf(id: string) {
      const res = await t.db.query<Record<string, string>>(
        `select tenant_id, from_state, to_state, action, actor_kind, actor_id
           from state_transitions where record_id = $1 order by id`,
        [id],
      );
      return res.rows;
    }

    it("registers one cron scan per trigger and a run queue per tenant", async () => {
      const schedules = await jobs.schedules();
      expect(schedules.map((s) => [s.job, s.tenant, s.cron])).toEqual([
        ["trigger.scan.archive_exploding", undefined, "0 * * * *"],
        ["trigger.scan.archive_hot", undefined, "*/5 * * * *"],
      ]);
      const queues = (await jobs.queues()).map((q) => q.queue);
      expect(queues).toEqual(
        expect.arrayContaining(["trigger.run.archive_hot/acme", "trigger.run.archive_hot/globex"]),
      );
    });

    it("scans each tenant in keyset pages and enqueues exactly its matching rows on its own queue", async () => {
      for (const tenant of ["acme", "globex"]) await jobs.pause(run, { tenant });
      const acme = await Promise.all([6, 7, 8, 9, 10].map((priority) => createNote(f.tenantA, { priority })));
      await createNote(f.tenantA, { priority: 3 });
      const published = await createNote(f.tenantA, { priority: 9 });
      await kernel.update(
        kernel.resource("notes"),
        { actor: f.actor(f.tenantA, "admin") },
        published,
        {},
        { action: "publish" },
      );
      const globex = [await createNote(f.tenantB, { priority: 6 })];
      await createNote(f.tenantB, { priority: 5 });

      expect(await runner.scan("archive_hot")).toEqual({ tenants: 2, matched: 6, enqueued: 6 });
      expect(await jobIds("trigger.run.archive_hot/acme")).toEqual([...acme].sort());
      expect(await jobIds("trigger.run.archive_hot/globex")).toEqual(globex);
      // A row whose job is still waiting is not enqueued again.
      expect(await runner.scan("archive_hot")).toEqual({ tenants: 2, matched: 6, enqueued: 0 });
      expect(await jobIds("trigger.run.archive_hot/acme")).toHaveLength(5);
    });

    it("archives as the system actor; a paused tenant queue holds while another proceeds, resume releases", async () => {
      await jobs.pause(run, { tenant: "acme" });
      const a = await createNote(f.tenantA, { priority: 8 });
      const b = await createNote(f.tenantB, { priority: 8 });
      await runner.scan("archive_hot");
      await waitFor(async () => (await stateOf(b)) === "archived", 15_000, "globex's row to be archived");
      expect(await stateOf(a)).toBe("draft");
      expect(await jobs.stats(run, { tenant: "acme" })).toMatchObject({ created: 1, active: 0 });
      expect((await jobs.queues()).find((q) => q.queue === "trigger.run.archive_hot/acme")).toMatchObject({
        paused: true,
        counts: { created: 1 },
      });

      expect(await transitionsOf(b)).toEqual([
        {
          tenant_id: f.tenantB,
          from_state: "draft",
          to_state: "archived",
          action: "archive",
          actor_kind: "system",
          actor_id: "system:trigger:archive_hot",
        },
      ]);
      const audit = await t.db.query<Record<string, string>>(
        "select tenant_id, actor_kind, actor_id, action from audit_events where record_id = $1 and kind = 'system_write'",
        [b],
      );
      expect(audit.rows).toEqual([
        {
          tenant_id: f.tenantB,
          actor_kind: "system",
          actor_id: "system:trigger:archive_hot",
          action: "archive",
        },
      ]);

      await jobs.resume(run, { tenant: "acme" });
      await waitFor(async () => (await stateOf(a)) === "archived", 15_000, "acme's row after resume");
    });

    it("skips a row that no longer matches when its job runs", async () => {
      await jobs.pause(run, { tenant: "acme" });
      const id = await createNote(f.tenantA, { priority: 7 });
      expect((await runner.scan("archive_hot")).enqueued).toBe(1);
      await kernel.update(kernel.resource("notes"), { actor: f.actor(f.tenantA, "operator") }, id, {
        priority: 2,
      });
      await jobs.resume(run, { tenant: "acme" });
      await waitFor(
        async () => (await jobIds("trigger.run.archive_hot/acme", ["completed"])).includes(id),
        15_000,
        "the job to complete",
      );
      expect(await stateOf(id)).toBe("draft");
      expect(await transitionsOf(id)).toEqual([]);
    });

    it("retries a failing action up to maxAttempts, then runs onError and dead-letters the job", async () => {
      const id = await createTask(f.tenantA, { explode: true });
      const exploding = triggerJobs(archiveExploding).run;
      expect((await runner.scan("archive_exploding")).enqueued).toBe(1);
      await waitFor(
        async () => (await stateOf(id)) === "failed",
        15_000,
        "onError to move the row to failed",
      );
      await waitFor(
        async () => (await jobIds("trigger.run.archive_exploding/acme", ["failed"])).includes(id),
        10_000,
        "the job to fail",
      );
      const job = await t.db.query<{ retry_count: number; output: { code?: string } }>(
        `select retry_count, output from ${schema}.job where name = $1 and data->>'id' = $2`,
        ["trigger.run.archive_exploding/acme", id],
      );
      expect(job.rows).toEqual([
        { retry_count: 1, output: expect.objectContaining({ code: "SONDE_VALIDATION_FAILED" }) },
      ]);
      const dead = await jobs.deadLetters(exploding, { tenant: "acme" });
      expect(dead.map((d) => d.payload)).toEqual([{ id }]);
      expect((await transitionsOf(id)).map((r) => [r.action, r.to_state, r.actor_id])).toEqual([
        ["give_up", "failed", "system:trigger:archive_exploding"],
      ]);
    });

    it("never lets a job on tenant A's queue touch tenant B's row", async () => {
      const b = await createNote(f.tenantB, { priority: 9 });
      await jobs.pause(run, { tenant: "globex" }); // only A's worker may see the job
      const job = await jobs.send(run, { id: b }, { tenant: "acme" });
      expect(job).not.toBeNull();
      await waitFor(
        async () => (await jobIds("trigger.run.archive_hot/acme", ["completed"])).includes(b),
        15_000,
        "A's worker to complete the job",
      );
      expect(await stateOf(b)).toBe("draft");
      expect(await runner.run("archive_hot", { tenant: "acme", id: b })).toBe("skipped");
      expect(await stateOf(b)).toBe("draft");
      expect(await runner.run("archive_hot", { tenant: "globex", id: b })).toBe("ran");
      expect(await stateOf(b)).toBe("archived");
      expect(await runner.run("archive_hot", { tenant: "globex", id: "not-a-uuid" })).toBe("skipped");
    });

    it("runs the scan from its job, as the cron schedule does", async () => {
      const id = await createNote(f.tenantA, { priority: 10 });
      await jobs.send(triggerJobs(archiveHot).scan, {});
      await waitFor(async () => (await stateOf(id)) === "archived", 15_000, "the scheduled scan's effect");
    });

    it("starts workers for a tenant created after start", async () => {
      const [created] = await t.db.orm
        .insert(tenants)
        .values({ slug: "initech", name: "Initech" })
        .returning({ id: tenants.id });
      if (created === undefined) throw new Error("tenant not created");
      expect(await runner.refreshTenants()).toBe(1);
      expect(await runner.refreshTenants()).toBe(0);
      const id = await createNote(created.id, { priority: 6 });
      expect((await runner.scan("archive_hot")).tenants).toBe(3);
      await waitFor(async () => (await stateOf(id)) === "archived", 15_000, "the new tenant's row");
    });

    // Embedded PGlite has one connection: no second transaction can hold a lock meanwhile, so this
    // case exists on PostgreSQL only (it is not registered, rather than skipped, on the embedded run).
    const onPostgres = target.name === "postgres" ? it : undefined;
    onPostgres?.("skips a row another transaction holds (FOR UPDATE SKIP LOCKED)", async () => {
      // Embedded PGlite has one connection: no second transaction can hold a lock meanwhile.
      const id = await createNote(f.tenantA, { priority: 9 });
      await jobs.pause(run, { tenant: "acme" });
      const other = new pg.Client({ connectionString: t.url });
      await other.connect();
      try {
        await other.query("begin");
        await other.query("select id from notes where id = $1 for update", [id]);
        expect(await runner.run("archive_hot", { tenant: "acme", id })).toBe("skipped");
        await other.query("rollback");
      } finally {
        await other.end();
      }
      expect(await runner.run("archive_hot", { tenant: "acme", id })).toBe("ran");
      expect(await stateOf(id)).toBe("archived");
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
