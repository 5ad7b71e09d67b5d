import { existsSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createTestPostgresDatabase } from "../support/databases.js";
import { serviceGate, TEST_DATABASE_URL, TEST_NATS_URL } from "../support/services.js";
import { listeningUrl, type SondeProcess, spawnSonde, tempDataDir } from "../support/sonde-process.js";

// Each test starts several real `sonde` processes one after another; on two cores beside the rest
// of the suite one start can take seconds, so these tests get a wider (still bounded) limit.
vi.setConfig({ testTimeout: 120_000 });

const running: SondeProcess[] = [];
function start(args: string[], env: NodeJS.ProcessEnv = {}): SondeProcess {
  const p = spawnSonde(args, env);
  running.push(p);
  return p;
}
afterEach(() => {
  for (const p of running.splice(0)) p.kill();
});

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  return getJsonWith(url, {});
}

async function getJsonWith(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { headers });
  return { status: res.status, body: await res.json() };
}

/** Polls /readyz until 200 (bounded); returns its body. */
async function ready(base: string, timeoutMs = 20_000): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: unknown } | undefined;
  while (Date.now() < deadline) {
    last = await getJson(`${base}/readyz`);
    if (last.status === 200) return last.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`/readyz did not turn 200: ${JSON.stringify(last)}`);
}

describe("sonde start (all roles, embedded)", () => {
  it("serves health, readiness, metrics and the home page, then drains cleanly on SIGTERM", async () => {
    const dataDir = tempDataDir();
    const token = `sonde_e2e_${"k".repeat(32)}`;
    const p = start(["start"], {
      SONDE_DATA_DIR: dataDir,
      SONDE_NODE_NAME: "e2e-node",
      SONDE_ADMIN_TOKEN: token,
    });
    const base = await listeningUrl(p);

    expect(await ready(base)).toEqual({
      status: "ready",
      ready: true,
      checks: { bus: "ok", database: "ok", jobs: "ok" },
    });
    expect(await getJson(`${base}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });

    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(
      /sonde_build_info\{version="[^"]+",node="e2e-node",roles="core,poller,agent"\} 1/,
    );
    expect(metrics).toContain("sonde_process_resident_memory_bytes");
    expect(metrics).toMatch(
      /sonde_http_request_duration_seconds_count\{method="GET",route="\/readyz",status="200"\} \d+/,
    );
    expect(metrics).toContain('sonde_readiness_check{check="database"} 1');

    const home = await fetch(`${base}/`);
    expect(home.headers.get("content-type")).toContain("text/html");
    expect(await home.text()).toContain("Sonde");

    // The JSON:API and its OpenAPI document are served; without credentials every API call is 401,
    // with the first-run SONDE_ADMIN_TOKEN the super user reads tenant default's audit log.
    const openapi = await getJson(`${base}/api/v2/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(openapi.body).toMatchObject({ openapi: expect.stringMatching(/^3\.1/) });
    const docs = await fetch(`${base}/api/v2/docs`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");
    const anonymous = await fetch(`${base}/api/v2/audit-events`, {
      headers: { accept: "application/vnd.api+json" },
    });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ errors: [{ code: "SONDE_UNAUTHENTICATED" }] });
    const bearer = { authorization: `Bearer ${token}` };
    const me = await fetch(`${base}/api/v2/me`, { headers: bearer });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ user: { super_user: true }, tenant: { slug: "default" } });
    const audit = await fetch(`${base}/api/v2/audit-events`, {
      headers: { ...bearer, accept: "application/vnd.api+json" },
    });
    expect(audit.status).toBe(200);

    // The inventory is wired: a sync through the real process reconciles, and the device is listed
    // under its canonical id; DIRE's metrics count the batch.
    const sync = await fetch(`${base}/api/v2/devices/sync`, {
      method: "POST",
      headers: { ...bearer, "content-type": "application/x-ndjson" },
      body: [
        JSON.stringify({ ip: "10.99.0.1", source: "armis", metadata: { armis_device_id: "E2E-1" } }),
        JSON.stringify({
          ip: "10.99.0.1",
          hostname: "e2e-host",
          source: "netbox",
          metadata: { netbox_device_id: 7 },
        }),
        "not json",
      ].join("\n"),
    });
    expect(sync.status).toBe(200);
    expect(await sync.json()).toMatchObject({
      received: 3,
      created: 1,
      updated: 0,
      rejected: [{ index: 2 }],
    });
    const listed = await getJsonWith(`${base}/api/v2/devices`, {
      ...bearer,
      accept: "application/vnd.api+json",
    });
    expect(listed.body).toMatchObject({
      data: [{ id: expect.stringMatching(/^sr:/), attributes: { hostname: "e2e-host", ip: "10.99.0.1" } }],
    });
    const metricsText = await (await fetch(`${base}/metrics`)).text();
    expect(metricsText).toMatch(/sonde_dire_updates_total\{outcome="created"\} 1/);

    // No SONDE_ADMIN_PASSWORD: the generated one was printed in a box on stdout, and never logged.
    const box = p.logs.filter((l) => l.msg.startsWith("│"));
    const password = box.map((l) => /password: (\S+)/.exec(l.msg)?.[1]).find((v) => v !== undefined);
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(p.logs.filter((l) => JSON.stringify(l).includes(password ?? "")).length).toBe(1);

    // Embedded without SMTP: mail stays in the dev mailbox, readable from this machine.
    expect(await getJson(`${base}/dev/mailbox.json`)).toEqual({ status: 200, body: { mails: [] } });

    const missing = await getJson(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ errors: [{ status: "404", code: "SONDE_ROUTE_NOT_FOUND" }] });

    // The secret was generated into the data dir, and the embedded database lives there too.
    expect(existsSync(join(dataDir, "secret"))).toBe(true);
    expect(existsSync(join(dataDir, "pgdata"))).toBe(true);

    const t0 = Date.now();
    p.child.kill("SIGTERM");
    expect(await p.exited(15_000)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(p.logs.find((l) => l.msg === "shutdown complete")).toMatchObject({ clean: true });

    // The instance deregistered on the way out, and the data-dir lock was released.
    expect(existsSync(join(dataDir, "db.lock"))).toBe(false);
    const db = await PGlite.create(join(dataDir, "pgdata"));
    try {
      const rows = await db.query("select count(*)::int as n from core_instances");
      expect(rows.rows).toEqual([{ n: 0 }]);
    } finally {
      await db.close();
    }
  });

  it("restarts on the same data dir with the same secret and no pending migrations", async () => {
    const dataDir = tempDataDir();
    const first = start(["start"], { SONDE_DATA_DIR: dataDir });
    await ready(await listeningUrl(first));
    first.child.kill("SIGTERM");
    expect(await first.exited(15_000)).toBe(0);

    expect(first.logs.some((l) => l.msg.includes("password:"))).toBe(true);

    const second = start(["start"], { SONDE_DATA_DIR: dataDir });
    await ready(await listeningUrl(second));
    // The first-run password box is printed once, never on a later start.
    expect(second.logs.some((l) => l.msg.includes("password:"))).toBe(false);
    expect(second.logs.find((l) => l.msg === "starting sonde")).toMatchObject({ secretSource: "data-dir" });
    expect(second.logs.find((l) => l.msg === "migrations up to date")).toMatchObject({ applied: 0 });
    second.child.kill("SIGINT");
    expect(await second.exited(15_000)).toBe(0);
  });

  it("refuses a second process on the same data dir", async () => {
    const dataDir = tempDataDir();
    const first = start(["start"], { SONDE_DATA_DIR: dataDir });
    await ready(await listeningUrl(first));
    const second = start(["start"], { SONDE_DATA_DIR: dataDir });
    expect(await second.exited()).toBe(78);
    expect(second.stderr()).toMatch(/is in use by another Sonde process \(pid \d+\)/);
    first.child.kill("SIGTERM");
    expect(await first.exited(15_000)).toBe(0);
  });

  it("migrates, reports status and reverts with sonde migrate", async () => {
    const dataDir = tempDataDir();
    const up = start(["migrate"], { SONDE_DATA_DIR: dataDir });
    expect(await up.exited()).toBe(0);
    expect(up.logs.map((l) => l.msg)).toContain(
      "migrations: applied 0000_core_instances, 0001_kernel, 0002_kernel_rls, 0003_encryption_keys, 0004_identity, 0005_identity_resources, 0006_drop_apikey, 0007_inventory, 0008_infrastructure, 0009_checker_schedule",
    );
    const status = start(["migrate", "status"], { SONDE_DATA_DIR: dataDir });
    expect(await status.exited()).toBe(0);
    expect(status.logs.map((l) => l.msg).join("\n")).toMatch(/^applied\t0000_core_instances\t\d{4}-/m);
    const down = start(["migrate", "down", "--steps", "2"], { SONDE_DATA_DIR: dataDir });
    expect(await down.exited()).toBe(0);
    const after = start(["migrate", "status"], { SONDE_DATA_DIR: dataDir });
    expect(await after.exited()).toBe(0);
    const lines = after.logs.map((l) => l.msg).join("\n");
    expect(lines).toMatch(/^applied\t0007_inventory\t\d{4}-/m);
    expect(lines).toMatch(/^pending\t0008_infrastructure\tpending/m);
    expect(lines).toMatch(/^pending\t0009_checker_schedule\tpending/m);
  });
});

const realServices = serviceGate("postgres").run && serviceGate("nats").run;
describe.runIf(realServices)("separate processes on PostgreSQL and NATS", () => {
  const dropAfter: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const drop of dropAfter) await drop();
  });

  it("runs core on PostgreSQL + NATS and a database-free poller and agent beside it", async () => {
    const pgdb = await createTestPostgresDatabase();
    dropAfter.push(pgdb.drop);
    const env = { DATABASE_URL: pgdb.url, NATS_URL: TEST_NATS_URL, SONDE_SECRET: "s".repeat(40) };

    const core = start(["core"], env);
    const coreUrl = await listeningUrl(core);
    expect(await ready(coreUrl)).toMatchObject({ checks: { bus: "ok", database: "ok", jobs: "ok" } });
    // No dev mailbox outside the embedded mode.
    expect((await fetch(`${coreUrl}/dev/mailbox.json`)).status).toBe(404);

    for (const role of ["poller", "agent"]) {
      const edge = start([role], { NATS_URL: TEST_NATS_URL });
      const edgeUrl = await listeningUrl(edge);
      // Pollers and agents are database-free: readiness asks the bus only.
      expect(await ready(edgeUrl)).toEqual({ status: "ready", ready: true, checks: { bus: "ok" } });
      expect((await fetch(`${edgeUrl}/`)).status).toBe(404);
      edge.child.kill("SIGTERM");
      expect(await edge.exited(15_000)).toBe(0);
    }

    core.child.kill("SIGTERM");
    expect(await core.exited(15_000)).toBe(0);
    expect(core.logs.find((l) => l.msg === "shutdown complete")).toMatchObject({ clean: true });
  });

  it("runs core as a separate non-owner login role while migrations run as the owner", async () => {
    const pgdb = await createTestPostgresDatabase();
    const login = `sonde_login_${Math.random().toString(36).slice(2, 10)}`;
    const dbName = new URL(pgdb.url).pathname.slice(1);
    dropAfter.push(async () => {
      await pgdb.drop();
      await adminQuery(`drop role if exists ${login}`);
    });
    const owner = { DATABASE_URL: pgdb.url, SONDE_SECRET: "s".repeat(40) };
    const migrate = start(["migrate"], owner);
    expect(await migrate.exited()).toBe(0);
    // What an operator does once: a login role that is a member of the application roles and may
    // create pg-boss's schema.
    await adminQuery(`create role ${login} login`);
    await adminQuery(`grant sonde_app, sonde_system to ${login}`);
    await adminQuery(`grant create on database ${dbName} to ${login}`);
    const loginUrl = new URL(pgdb.url);
    loginUrl.username = login;

    const core = start(["core"], {
      DATABASE_URL: loginUrl.toString(),
      DATABASE_MIGRATION_URL: pgdb.url,
      NATS_URL: TEST_NATS_URL,
      SONDE_SECRET: "s".repeat(40),
    });
    expect(await ready(await listeningUrl(core))).toMatchObject({ checks: { database: "ok", jobs: "ok" } });
    expect(core.logs.find((l) => l.msg === "migrations up to date")).toMatchObject({ as: "owner" });
    const owned = await adminQuery(
      `select tableowner from pg_tables where tablename in ('tenants', 'core_instances') and schemaname = 'public'`,
      pgdb.url,
    );
    expect(owned.every((r) => r.tableowner !== login)).toBe(true);
    core.child.kill("SIGTERM");
    expect(await core.exited(15_000)).toBe(0);
  });
});

async function adminQuery(text: string, url = TEST_DATABASE_URL): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
