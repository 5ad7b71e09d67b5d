/**
 * Integration sources end to end, over HTTP, on both databases: admins create sources (credentials
 * write-only and encrypted), operators start syncs, the job pages through a fake Armis or NetBox with
 * the real clients and hands each page to DIRE's ingest; progress, the run record and the final
 * status are checked, failures end `failed` with a secret-free error, the schedule trigger starts due
 * sources, and the stale-sync trigger fails a sync whose worker was lost.
 */
import { and, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { STALE_SYNC_ERROR } from "../../src/domains/integrations/resources/integration-source.js";
import { integrationSyncJob } from "../../src/domains/integrations/sync/job.js";
import { auditEvents } from "../../src/kernel/kernel.schema.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { nextCronTime } from "../../src/kernel/triggers/cron.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { type FakeArmis, startFakeArmis } from "../support/fake-armis.js";
import { type FakeNetbox, startFakeNetbox } from "../support/fake-netbox.js";
import { type Credential, doc, error, many, one, type ResourceObj } from "../support/identity-harness.js";
import { type IntegrationHarness, openIntegrationHarness } from "../support/integration-harness.js";
import { serviceGate } from "../support/services.js";
import { sleep, waitFor } from "../support/wait.js";

const SOURCES = "/api/v2/integration-sources";

function suite(target: DatabaseTarget) {
  describe(`integration sources: ${target.name}`, () => {
    let ih: IntegrationHarness;
    let armis: FakeArmis;
    let netbox: FakeNetbox;
    let acme = "";
    const as: Record<"admin" | "operator" | "viewer", Credential> = {
      admin: undefined,
      operator: undefined,
      viewer: undefined,
    };
    let n = 0;
    const call: IntegrationHarness["h"]["call"] = (...args) => ih.h.call(...args);

    beforeAll(async () => {
      ih = await openIntegrationHarness(target);
      const h = ih.h;
      acme = await h.createTenant("acme");
      for (const role of ["admin", "operator", "viewer"] as const) {
        const email = `${role}@acme.example`;
        await h.addMember(acme, await h.createUser(email), role);
        as[role] = await h.signIn(email);
      }
      armis = await startFakeArmis({ devices: 25, anonymous: 2, subnet: 20 });
      netbox = await startFakeNetbox({ devices: 12, anonymous: 1, subnet: 30 });
    });
    afterEach(() => {
      armis.search.clear();
      armis.token.clear();
      netbox.devices.clear();
    });
    afterAll(async () => {
      await armis?.close();
      await netbox?.close();
      await ih?.close();
    });

    async function createSource(attributes: Record<string, unknown>): Promise<ResourceObj> {
      n += 1;
      const res = await call("POST", SOURCES, {
        as: as.admin,
        body: doc("integration-sources", { name: `source-${n}`, page_size: 10, ...attributes }),
      });
      expect(res.status, res.raw).toBe(201);
      return one(res);
    }

    const armisSource = (over: Record<string, unknown> = {}) =>
      createSource({ kind: "armis", endpoint: armis.url, credentials: armis.secret, ...over });

    async function startSync(id: string, who: Credential = as.operator): Promise<string> {
      const res = await call("POST", `${SOURCES}/${id}/sync`, { as: who });
      expect(res.status, res.raw).toBe(200);
      expect(one(res).attributes.status).toBe("running");
      const runId = res.doc.meta?.run_id;
      if (typeof runId !== "string") throw new Error(`no run id in ${res.raw}`);
      return runId;
    }

    /** The source once its sync has ended (bounded wait). */
    async function settled(id: string): Promise<ResourceObj> {
      const read = async () => one(await call("GET", `${SOURCES}/${id}`, { as: as.viewer }));
      await waitFor(
        async () => (await read()).attributes.status !== "running",
        20_000,
        `source ${id} to settle`,
        100,
      );
      return read();
    }

    async function run(id: string): Promise<ResourceObj> {
      const res = await call("GET", `/api/v2/integration-runs/${id}`, { as: as.viewer });
      expect(res.status, res.raw).toBe(200);
      return one(res);
    }

    async function deviceIps(): Promise<string[]> {
      const res = await call("GET", "/api/v2/devices?page[size]=500", { as: as.viewer });
      expect(res.status, res.raw).toBe(200);
      return many(res).map((d) => String(d.attributes.ip));
    }

    /** System-actor audit rows of one action on one source (progress is audited per page). */
    async function audited(action: string, recordId: string): Promise<number> {
      const rows = await inScope(ih.h.t.db.orm, { tenantId: null, bypass: true }, (tx) =>
        tx
          .select({ id: auditEvents.id })
          .from(auditEvents)
          .where(and(eq(auditEvents.action, action), eq(auditEvents.record_id, recordId))),
      );
      return rows.length;
    }

    it("creates a source whose credentials are stored encrypted and never returned", async () => {
      const created = await armisSource();
      expect(created.attributes).toMatchObject({
        kind: "armis",
        endpoint: armis.url,
        partition: "default",
        status: "idle",
        schedule: null,
        next_sync_at: null,
        sync_seen: 0,
        due: false,
      });
      expect(created.attributes).not.toHaveProperty("credentials");
      const reads = [
        await call("GET", `${SOURCES}/${created.id}`, { as: as.viewer }),
        await call("GET", SOURCES, { as: as.admin }),
      ];
      for (const res of [...reads]) {
        expect(res.status).toBe(200);
        expect(res.raw).not.toContain(armis.secret);
        expect(res.raw).not.toContain('"credentials"');
      }
      const filtered = await call("GET", `${SOURCES}?filter[credentials]=${armis.secret}`, { as: as.admin });
      expect(filtered.status).toBe(400);
      expect(filtered.raw).not.toContain(armis.secret);
      const stored = await inScope(ih.h.t.db.orm, { tenantId: null, bypass: true }, (tx) =>
        queryRows<{ credentials: string }>(
          tx,
          sql`select credentials from integration_sources where id = ${created.id}`,
        ),
      );
      expect(stored[0]?.credentials).toMatch(/^enc:v1:/);
    });

    it("validates endpoints and schedules, and computes when a schedule is next due", async () => {
      const refused: Array<[Record<string, unknown>, string, RegExp]> = [
        [{ endpoint: "ftp://armis.example" }, "endpoint", /http or https/],
        [{ endpoint: "https://admin:hunter2@armis.example" }, "endpoint", /must not carry credentials/],
        [{ endpoint: "armis.example" }, "endpoint", /absolute/],
        [{ schedule: "61 * * * *" }, "schedule", /not a cron expression: minute field/],
        [{ schedule: "* * * *" }, "schedule", /must have 5 fields/],
        [{ schedule: "0 0 31 2 *" }, "schedule", /never fires/],
        [{ kind: "ipam" }, "kind", /./],
        [{ page_size: 0 }, "page_size", /./],
      ];
      for (const [over, field, message] of refused) {
        const res = await call("POST", SOURCES, {
          as: as.admin,
          body: doc("integration-sources", {
            name: `bad-${field}`,
            kind: "armis",
            endpoint: armis.url,
            credentials: "x",
            ...over,
          }),
        });
        expect(res.status, JSON.stringify(over)).toBe(422);
        expect(error(res).source?.pointer).toBe(`/data/attributes/${field}`);
        expect(error(res).detail).toMatch(message);
        expect(res.raw).not.toContain("hunter2");
      }
      const before = new Date();
      const scheduled = await armisSource({ schedule: "*/30 * * * *", endpoint: `${armis.url}/` });
      expect(scheduled.attributes.endpoint).toBe(armis.url);
      expect(scheduled.attributes.next_sync_at).toBe(nextCronTime("*/30 * * * *", before)?.toISOString());
      const patched = await call("PATCH", `${SOURCES}/${scheduled.id}`, {
        as: as.admin,
        body: doc("integration-sources", { schedule: null }, scheduled.id),
      });
      expect(patched.status, patched.raw).toBe(200);
      expect(one(patched).attributes).toMatchObject({ schedule: null, next_sync_at: null });
    });

    it("syncs Armis on an operator's demand: devices appear, progress and the run are recorded", async () => {
      const source = await armisSource({ partition: "campus" });
      const runId = await startSync(source.id);
      const done = await settled(source.id);
      expect(done.attributes).toMatchObject({
        status: "success",
        sync_seen: 27,
        sync_total: 27,
        last_sync_error: null,
        last_sync_result: { run_id: runId, seen: 27, total: 27, created: 25, updated: 0, rejected: 2 },
      });
      const record = await run(runId);
      expect(record.attributes).toMatchObject({
        source_id: source.id,
        trigger: "manual",
        status: "success",
        seen: 27,
        total: 27,
        created: 25,
        rejected: 2,
        error: null,
      });
      expect(record.attributes.finished_at).not.toBeNull();
      const runs = await call("GET", `${SOURCES}/${source.id}/runs`, { as: as.viewer });
      expect(many(runs).map((r) => r.id)).toEqual([runId]);
      // Three pages of ten: progress reported after each, through the kernel (audited).
      expect(await audited("progress", source.id)).toBe(3);
      expect(await audited("reveal", source.id)).toBe(1);
      const ips = await deviceIps();
      expect(ips).toEqual(expect.arrayContaining(["10.20.0.2", "10.20.0.26"]));
      const devices = await call("GET", "/api/v2/devices?filter[ip]=10.20.0.8", { as: as.viewer });
      expect(many(devices)[0]?.attributes).toMatchObject({
        partition: "campus",
        hostname: "armis-device-7",
        vendor_name: "Cisco",
        risk_level: "high",
      });
      // Synced again: the same devices, updated rather than created.
      const again = await startSync(source.id);
      expect((await settled(source.id)).attributes.last_sync_result).toMatchObject({
        run_id: again,
        created: 0,
      });
      expect(await deviceIps()).toHaveLength(ips.length);
    });

    it("syncs NetBox, with addresses stripped of their prefix length", async () => {
      const source = await createSource({
        kind: "netbox",
        endpoint: netbox.url,
        credentials: netbox.token,
        query: "site=hq",
      });
      const runId = await startSync(source.id);
      expect((await settled(source.id)).attributes).toMatchObject({ status: "success", sync_seen: 13 });
      expect((await run(runId)).attributes).toMatchObject({ seen: 13, total: 13, created: 12, rejected: 1 });
      expect(await deviceIps()).toEqual(expect.arrayContaining(["10.30.0.2", "10.30.0.13"]));
      expect(netbox.requests.at(-1)?.get("site")).toBe("hq");
    });

    it("ends failed, with a secret-free error, when the source refuses the credentials", async () => {
      const wrong = "wrong-armis-secret-c0ffee";
      const source = await armisSource({ credentials: wrong });
      const runId = await startSync(source.id);
      const done = await settled(source.id);
      const message = "armis: POST /api/v1/access_token/ answered HTTP 401: the secret key was refused";
      expect(done.attributes).toMatchObject({ status: "failed", last_sync_error: message });
      expect((await run(runId)).attributes).toMatchObject({ status: "failed", error: message });
      const reads = [
        await call("GET", `${SOURCES}/${source.id}`, { as: as.admin }),
        await call("GET", `/api/v2/integration-runs?filter[source_id]=${source.id}`, { as: as.admin }),
      ];
      for (const res of reads) expect(res.raw).not.toContain(wrong);
      // Fixed by an admin, it syncs again from failed.
      const fixed = await call("PATCH", `${SOURCES}/${source.id}`, {
        as: as.admin,
        body: doc("integration-sources", { credentials: armis.secret }, source.id),
      });
      expect(fixed.status, fixed.raw).toBe(200);
      expect(fixed.raw).not.toContain(armis.secret);
      await startSync(source.id);
      expect((await settled(source.id)).attributes).toMatchObject({
        status: "success",
        last_sync_error: null,
      });
    });

    it("ends failed when the source keeps failing mid-sync, with the progress it made", async () => {
      const source = await armisSource({ page_size: 20 });
      // The first page arrives; every later request fails until the client gives up.
      armis.search.inject({ delayMs: 0 }, { status: 503 }, { status: 503 }, { status: 503 });
      const runId = await startSync(source.id);
      const done = await settled(source.id);
      const message = "armis: GET /api/v1/search/: gave up after 3 attempts (last: HTTP 503)";
      expect(done.attributes).toMatchObject({ status: "failed", last_sync_error: message, sync_seen: 20 });
      expect((await run(runId)).attributes).toMatchObject({ status: "failed", error: message, seen: 20 });
    });

    it("refuses a second sync while one runs", async () => {
      const source = await armisSource();
      armis.search.inject({ delayMs: 500 });
      await startSync(source.id);
      const twice = await call("POST", `${SOURCES}/${source.id}/sync`, { as: as.operator });
      expect(twice.status).toBe(409);
      expect(error(twice).code).toBe("SONDE_INVALID_TRANSITION");
      expect((await settled(source.id)).attributes.status).toBe("success");
    });

    it("lets viewers read but not sync, operators sync but not administer", async () => {
      const source = await armisSource();
      const viewerSync = await call("POST", `${SOURCES}/${source.id}/sync`, { as: as.viewer });
      expect(viewerSync.status).toBe(403);
      expect(error(viewerSync).code).toBe("SONDE_FORBIDDEN");
      const body = doc("integration-sources", {
        name: "x",
        kind: "armis",
        endpoint: armis.url,
        credentials: "y",
      });
      for (const who of [as.viewer, as.operator]) {
        expect((await call("POST", SOURCES, { as: who, body })).status).toBe(403);
        const patch = doc("integration-sources", { name: "renamed" }, source.id);
        expect((await call("PATCH", `${SOURCES}/${source.id}`, { as: who, body: patch })).status).toBe(403);
        expect((await call("DELETE", `${SOURCES}/${source.id}`, { as: who })).status).toBe(403);
      }
      expect((await call("GET", `${SOURCES}/${source.id}`, { as: as.viewer })).status).toBe(200);
      // The runner's actions are the system's alone: no route, and no user (not even a super user).
      const k = ih.h.kernel;
      const superAdmin = {
        kind: "user",
        id: "root",
        tenantId: acme,
        role: "admin",
        superUser: true,
      } as const;
      for (const action of ["start_scheduled", "progress", "finish", "fail"]) {
        await expect(
          k.runAction(k.resource("integration_source"), action, { actor: superAdmin }, { id: source.id }),
        ).rejects.toMatchObject({ code: "SONDE_FORBIDDEN" });
      }
      expect((await call("DELETE", `${SOURCES}/${source.id}`, { as: as.admin })).status).toBe(204);
    });

    it("starts due sources through the schedule trigger", { timeout: 60_000 }, async () => {
      // The runner's own every-minute scan would race the one below: stay clear of the minute's turn
      // (pg-boss fires it within seconds of it).
      const second = new Date().getSeconds();
      if (second >= 45 || second < 8) await sleep((((68 - second) % 60) + 1) * 1000);
      const source = await armisSource({ schedule: "* * * * *" });
      expect(source.attributes.due).toBe(false);
      // Make it due now, rather than waiting for the minute to turn.
      await inScope(ih.h.t.db.orm, { tenantId: null, bypass: true }, (tx) =>
        tx.execute(
          sql`update integration_sources set next_sync_at = now() - interval '1 minute' where id = ${source.id}`,
        ),
      );
      expect(one(await call("GET", `${SOURCES}/${source.id}`, { as: as.viewer })).attributes.due).toBe(true);
      const scan = await ih.triggers.scan("integration_sync_due");
      expect(scan.enqueued).toBe(1);
      await waitFor(
        async () =>
          one(await call("GET", `${SOURCES}/${source.id}`, { as: as.viewer })).attributes.status !== "idle",
        20_000,
        "the scheduled sync to start",
        100,
      );
      const done = await settled(source.id);
      expect(done.attributes).toMatchObject({ status: "success", due: false });
      expect(Date.parse(String(done.attributes.next_sync_at))).toBeGreaterThan(Date.now());
      const runs = many(await call("GET", `${SOURCES}/${source.id}/runs`, { as: as.viewer }));
      expect(runs.map((r) => [r.attributes.trigger, r.attributes.status])).toEqual([["schedule", "success"]]);
    });

    it("fails a sync whose worker was lost, through the stale-sync trigger", async () => {
      const source = await armisSource();
      await ih.jobs.pause(integrationSyncJob);
      try {
        const runId = await startSync(source.id);
        await inScope(ih.h.t.db.orm, { tenantId: null, bypass: true }, (tx) =>
          tx.execute(
            sql`update integration_sources set last_sync_started_at = now() - interval '3 hours' where id = ${source.id}`,
          ),
        );
        expect((await ih.triggers.scan("integration_sync_stale")).enqueued).toBe(1);
        const done = await settled(source.id);
        expect(done.attributes).toMatchObject({ status: "failed", last_sync_error: STALE_SYNC_ERROR });
        expect((await run(runId)).attributes).toMatchObject({ status: "failed", error: STALE_SYNC_ERROR });
      } finally {
        await ih.jobs.resume(integrationSyncJob);
      }
      // The job, delivered late, finds its run over and leaves everything as it is.
      await waitFor(
        async () =>
          (await ih.jobs.stats(integrationSyncJob)).created +
            (await ih.jobs.stats(integrationSyncJob)).active ===
          0,
        20_000,
        "the late sync job to complete",
        100,
      );
      expect(one(await call("GET", `${SOURCES}/${source.id}`, { as: as.viewer })).attributes.status).toBe(
        "failed",
      );
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
