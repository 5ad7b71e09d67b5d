/**
 * `POST /api/v2/devices/sync` over HTTP, with the real kernel, DIRE and actor resolver, on both
 * databases: JSON arrays and streamed NDJSON land, bad records are rejected one by one with their
 * index, replays change nothing, limits and refusals answer with catalogue errors, and one tenant's
 * sync never touches another tenant's devices.
 */
import { Readable } from "node:stream";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncRoutes } from "../../src/api/inventory/sync-route.js";
import { DeviceIngest } from "../../src/domains/inventory/dire/ingest.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget, silentLogger } from "../support/databases.js";
import {
  type CallOptions,
  error,
  type IdentityHarness,
  openIdentityHarness,
  type Res,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

const SYNC = "/api/v2/devices/sync";
/** A second mount with tiny limits, to reach them without megabytes of input. */
const LIMITED = "/limited/devices/sync";
const MAX_BODY = 64 * 1024;
const NDJSON = "application/x-ndjson";

type Device = Record<string, unknown> & { uid: string; ip: string | null; mac: string | null };

function update(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    hostname: `host-${i}`,
    source: "netbox",
    timestamp: "2025-01-30T12:00:00Z",
    ...extra,
  };
}

const ndjson = (records: readonly unknown[]) => records.map((r) => JSON.stringify(r)).join("\n") + "\n";

function suite(target: DatabaseTarget) {
  describe(`device sync over HTTP: ${target.name}`, () => {
    let h: IdentityHarness;
    let acme: string;
    let globex: string;
    const as: Record<"operator" | "viewer" | "globex", CallOptions> = {
      operator: {},
      viewer: {},
      globex: {},
    };

    /** The tenant's devices (as the database holds them, merged and deleted ones included). */
    async function devices(tenantId: string): Promise<Device[]> {
      return inScope(h.t.db.orm, { tenantId, bypass: false }, (tx) =>
        queryRows<Device>(tx, sql`select * from devices order by uid`),
      );
    }

    function sync(body: string, opts: CallOptions & { type?: string; url?: string } = {}): Promise<Res> {
      return h.call("POST", opts.url ?? SYNC, {
        ...opts,
        body,
        headers: { "content-type": opts.type ?? "application/json", ...opts.headers },
      });
    }

    beforeAll(async () => {
      h = await openIdentityHarness(target, {
        routes: async ({ app, kernel, resolveActor }) => {
          const ingest = new DeviceIngest({ kernel, logger: silentLogger });
          await app.register(syncRoutes, {
            prefix: "/api/v2",
            ingest,
            resolveActor,
            maxBodyBytes: MAX_BODY,
            maxRecords: 10_000,
          });
          await app.register(syncRoutes, {
            prefix: "/limited",
            ingest,
            resolveActor,
            maxBodyBytes: MAX_BODY,
            maxRecords: 3,
            maxLineBytes: 512,
          });
        },
      });
      acme = await h.createTenant("acme");
      globex = await h.createTenant("globex");
      await h.addMember(acme, await h.createUser("olga@acme.example"), "operator");
      await h.addMember(acme, await h.createUser("vic@acme.example"), "viewer");
      await h.addMember(globex, await h.createUser("gus@globex.example"), "operator");
      as.operator = { as: await h.signIn("olga@acme.example") };
      as.viewer = { as: await h.signIn("vic@acme.example") };
      as.globex = { as: await h.signIn("gus@globex.example") };
    }, 60_000);
    afterAll(async () => h?.close());

    it("ingests a JSON array and answers with the counts", async () => {
      const body = JSON.stringify([1, 2, 3].map((i) => update(i, { mac: `02:00:00:00:00:0${i}` })));
      const res = await sync(body, as.operator);
      expect(res.status).toBe(200);
      expect(res.json).toEqual({
        received: 3,
        created: 3,
        updated: 0,
        merged: 0,
        blocked_merges: 0,
        deleted: 0,
        rejected: [],
        rejected_count: 0,
      });
      const rows = await devices(acme);
      expect(rows.map((d) => d.ip).sort()).toEqual(["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
      expect(rows.map((d) => d.mac).sort()).toEqual(["020000000001", "020000000002", "020000000003"]);
    });

    it("takes one update object as a body of one", async () => {
      const res = await sync(JSON.stringify(update(4)), as.operator);
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ received: 1, created: 1, rejected_count: 0 });
    });

    it("streams 5,000 NDJSON lines in chunks, blank lines ignored, and lands them all", async () => {
      const lines = Array.from({ length: 5_000 }, (_, i) => update(10_000 + i));
      async function* body() {
        // Pieces that cut lines apart, with blank lines in between, as a network delivers them.
        const text = ndjson(lines.slice(0, 2_500)) + "\n\r\n" + ndjson(lines.slice(2_500));
        for (let at = 0; at < text.length; at += 7_919) yield text.slice(at, at + 7_919);
      }
      const res = await h.app.inject({
        method: "POST",
        url: SYNC,
        headers: { "content-type": NDJSON, cookie: (as.operator.as as { cookie: string }).cookie },
        payload: Readable.from(body()),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ received: 5_000, created: 5_000, rejected: [], rejected_count: 0 });
      const ips = new Set((await devices(acme)).map((d) => d.ip));
      expect(lines.every((l) => ips.has(l.ip as string))).toBe(true);
    }, 120_000);

    it("rejects bad records one by one, by index among non-blank lines, while the good ones land", async () => {
      const body = [
        JSON.stringify(update(20_001)),
        "",
        "{not json",
        JSON.stringify(update(20_002, { ip: "999.1.1.1" })),
        JSON.stringify({ ip: "10.9.9.9" }),
        "   ",
        JSON.stringify(update(20_003, { hostname: "x".repeat(600) })),
        JSON.stringify(update(20_004)),
      ].join("\n");
      const res = await sync(body, { ...as.operator, type: NDJSON });
      expect(res.status).toBe(200);
      const report = res.json as { rejected: Array<{ index: number; reason: string }> };
      expect(report).toMatchObject({ received: 6, created: 2, rejected_count: 4 });
      expect(report.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4]);
      expect(report.rejected[0]?.reason).toBe("not JSON");
      expect(report.rejected[1]?.reason).toMatch(/^ip: /);
      expect(report.rejected[2]?.reason).toMatch(/^source: /);
      expect(report.rejected[3]?.reason).toMatch(/^hostname: /);
      // A reason names the problem, never the value.
      expect(res.raw).not.toContain("999.1.1.1");
      const ips = (await devices(acme)).map((d) => d.ip);
      expect(ips).toContain("10.0.78.33");
      expect(ips).toContain("10.0.78.36");
      expect(ips).not.toContain("10.9.9.9");
    });

    it("rejects the elements of a JSON array one by one too", async () => {
      const res = await sync(
        JSON.stringify([update(30_001), "text", null, update(30_002, { colour: "red" })]),
        as.operator,
      );
      expect(res.status).toBe(200);
      const report = res.json as { rejected: Array<{ index: number }> };
      expect(report).toMatchObject({ received: 4, created: 1, rejected_count: 3 });
      expect(report.rejected.map((r) => r.index)).toEqual([1, 2, 3]);
    });

    it("changes nothing when the same input is replayed", async () => {
      const body = JSON.stringify(
        [40_001, 40_002, 40_003].map((i) =>
          update(i, { mac: `02:00:00:00:9c:${(i % 256).toString(16).padStart(2, "0")}`, is_available: true }),
        ),
      );
      const first = await sync(body, as.operator);
      expect(first.json).toMatchObject({ received: 3, created: 3 });
      const before = await devices(acme);
      for (let i = 0; i < 2; i++) {
        const again = await sync(body, as.operator);
        expect(again.status).toBe(200);
        expect(again.json).toMatchObject({ received: 3, created: 0, updated: 0, merged: 0, deleted: 0 });
      }
      expect(await devices(acme)).toEqual(before);
      const replayNdjson = await sync(ndjson(JSON.parse(body) as unknown[]), {
        ...as.operator,
        type: NDJSON,
      });
      expect(replayNdjson.json).toMatchObject({ received: 3, created: 0, updated: 0 });
      expect(await devices(acme)).toEqual(before);
    });

    it("rejects records beyond the per-request limit, and lines over the line limit, without processing them", async () => {
      const lines = [
        update(50_001),
        update(50_002),
        update(50_003, { hostname: "y".repeat(600) }),
        update(50_004),
        update(50_005),
      ];
      const res = await sync(ndjson(lines), { ...as.operator, type: NDJSON, url: LIMITED });
      expect(res.status).toBe(200);
      const report = res.json as { rejected: Array<{ index: number; reason: string }> };
      expect(report).toMatchObject({ received: 5, created: 2, rejected_count: 3 });
      expect(report.rejected).toEqual([
        { index: 2, reason: "line longer than 512 bytes" },
        { index: 3, reason: "beyond the limit of 3 records per request: not processed" },
        { index: 4, reason: "beyond the limit of 3 records per request: not processed" },
      ]);
      const ips = (await devices(acme)).map((d) => d.ip);
      expect(ips).toContain("10.0.195.81");
      expect(ips).not.toContain("10.0.195.84");
    });

    it("lists the first 1,000 rejections and counts them all", async () => {
      const body = `${"x\n".repeat(1_500)}${JSON.stringify(update(60_001))}\n`;
      const res = await sync(body, { ...as.operator, type: NDJSON });
      expect(res.status).toBe(200);
      const report = res.json as { rejected: Array<{ index: number }> };
      expect(report).toMatchObject({ received: 1_501, created: 1, rejected_count: 1_500 });
      expect(report.rejected).toHaveLength(1_000);
      expect(report.rejected.at(-1)?.index).toBe(999);
    });

    it("answers 413, 400, 415, 401 and 403 from the catalogue", async () => {
      const big = JSON.stringify(Array.from({ length: 2_000 }, (_, i) => update(i)));
      expect(big.length).toBeGreaterThan(MAX_BODY);
      const cases: Array<[string, Promise<Res>, number, string]> = [
        ["too large", sync(big, as.operator), 413, "SONDE_PAYLOAD_TOO_LARGE"],
        ["not JSON", sync("[{", as.operator), 400, "SONDE_BAD_REQUEST"],
        ["not an array or object", sync("42", as.operator), 400, "SONDE_BAD_REQUEST"],
        [
          "text/plain",
          sync("[]", { ...as.operator, type: "text/plain" }),
          415,
          "SONDE_UNSUPPORTED_MEDIA_TYPE",
        ],
        [
          "JSON:API",
          sync("[]", { ...as.operator, type: "application/vnd.api+json" }),
          415,
          "SONDE_UNSUPPORTED_MEDIA_TYPE",
        ],
        ["no credentials", sync(JSON.stringify([update(70_001)])), 401, "SONDE_UNAUTHENTICATED"],
        ["viewer, JSON", sync(JSON.stringify([update(70_002)]), as.viewer), 403, "SONDE_FORBIDDEN"],
        [
          "viewer, NDJSON",
          sync(ndjson([update(70_003)]), { ...as.viewer, type: NDJSON }),
          403,
          "SONDE_FORBIDDEN",
        ],
      ];
      for (const [label, pending, status, code] of cases) {
        const res = await pending;
        expect({ label, status: res.status, code: error(res).code }).toEqual({ label, status, code });
      }
      const noType = await h.app.inject({ method: "POST", url: SYNC, payload: "[]" });
      expect(noType.statusCode).toBe(415);
      const anonymous = await sync("[]");
      expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="sonde"');
      const ips = (await devices(acme)).map((d) => d.ip);
      for (const i of [70_001, 70_002, 70_003]) expect(ips).not.toContain(update(i).ip);
    });

    it("keeps tenants apart: globex's sync of acme's addresses creates globex's own devices and leaves acme's alone", async () => {
      const shared = [update(80_001, { mac: "02:00:00:01:38:81" }), update(80_002)];
      expect((await sync(JSON.stringify(shared), as.operator)).json).toMatchObject({ created: 2 });
      const acmeBefore = await devices(acme);
      const named = acmeBefore.find((d) => d.ip === shared[1]?.ip);
      expect(named).toBeDefined();
      const res = await sync(
        JSON.stringify([
          { ...shared[0], hostname: "globex-box" },
          // Canonical ids are deterministic, so this names globex's own device of that address,
          // looked up in globex only: acme's device of the same id is out of reach.
          { ...shared[1], device_id: named?.uid, hostname: "pwned" },
          // An update cannot name a tenant.
          { ...update(80_003), tenant_id: acme },
        ]),
        as.globex,
      );
      expect(res.status).toBe(200);
      const report = res.json as { rejected: Array<{ index: number; reason: string }> };
      expect(report.rejected.map((r) => r.index)).toEqual([2]);
      expect(report.rejected[0]?.reason).toMatch(/tenant_id/);
      expect(await devices(acme)).toEqual(acmeBefore);
      const mine = await devices(globex);
      expect(mine.map((d) => d.ip).sort()).toEqual([shared[0]?.ip, shared[1]?.ip]);
      expect(mine.every((d) => d.tenant_id === globex)).toBe(true);
      expect(mine.find((d) => d.ip === shared[0]?.ip)?.hostname).toBe("globex-box");
      expect(mine.find((d) => d.ip === shared[0]?.ip)?.mac).toBe("020000013881");
    });

    it("leaves the JSON:API device routes as they were", async () => {
      const [device] = await devices(acme);
      const one = await h.call(
        "GET",
        `/api/v2/devices/${encodeURIComponent(String(device?.uid))}`,
        as.operator,
      );
      expect(one.status).toBe(200);
      const get = await h.call("GET", SYNC, as.operator);
      expect(get.status).toBe(404);
      expect(error(get).code).toBe("SONDE_NOT_FOUND");
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
