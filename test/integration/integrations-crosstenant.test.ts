/**
 * Cross-tenant probes on integration sources and runs: globex's admin and operator aim every route
 * at acme's source and run by id and get 404 (nothing of acme's comes back), lists never show acme's
 * rows, and each tenant's sync writes only its own devices, even when both sources serve the very same
 * devices (same Armis ids, MACs and addresses).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { type FakeArmis, startFakeArmis } from "../support/fake-armis.js";
import { type Credential, doc, error, many, type Method, one } from "../support/identity-harness.js";
import { type IntegrationHarness, openIntegrationHarness } from "../support/integration-harness.js";
import { serviceGate } from "../support/services.js";
import { waitFor } from "../support/wait.js";

const SOURCES = "/api/v2/integration-sources";

function suite(target: DatabaseTarget) {
  describe(`integration sources across tenants: ${target.name}`, () => {
    let ih: IntegrationHarness;
    let armisA: FakeArmis;
    let armisB: FakeArmis;
    const a = { admin: undefined as Credential, source: "", run: "" };
    const b = { admin: undefined as Credential, operator: undefined as Credential, source: "", run: "" };

    async function syncAndSettle(as: Credential, id: string): Promise<string> {
      const res = await ih.h.call("POST", `${SOURCES}/${id}/sync`, { as });
      expect(res.status, res.raw).toBe(200);
      await waitFor(
        async () => one(await ih.h.call("GET", `${SOURCES}/${id}`, { as })).attributes.status === "success",
        20_000,
        `source ${id} to sync`,
        100,
      );
      return String(res.doc.meta?.run_id);
    }

    async function create(as: Credential, fake: FakeArmis, name: string): Promise<string> {
      const res = await ih.h.call("POST", SOURCES, {
        as,
        body: doc("integration-sources", {
          name,
          kind: "armis",
          endpoint: fake.url,
          credentials: fake.secret,
        }),
      });
      expect(res.status, res.raw).toBe(201);
      return one(res).id;
    }

    const devices = async (as: Credential) =>
      many(await ih.h.call("GET", "/api/v2/devices?page[size]=500", { as })).map((d) => ({
        ip: d.attributes.ip,
        armis: (d.attributes.metadata as Record<string, unknown> | undefined)?.armis_device_id,
      }));

    beforeAll(async () => {
      ih = await openIntegrationHarness(target);
      const h = ih.h;
      const acme = await h.createTenant("acme");
      const globex = await h.createTenant("globex");
      await h.addMember(acme, await h.createUser("ada@acme.example"), "admin");
      await h.addMember(globex, await h.createUser("bob@globex.example"), "admin");
      await h.addMember(globex, await h.createUser("bea@globex.example"), "operator");
      a.admin = await h.signIn("ada@acme.example");
      b.admin = await h.signIn("bob@globex.example");
      b.operator = await h.signIn("bea@globex.example");
      // The same devices on both sides: only tenancy keeps them apart.
      armisA = await startFakeArmis({ devices: 15, subnet: 20 });
      armisB = await startFakeArmis({ devices: 10, subnet: 20 });
      a.source = await create(a.admin, armisA, "acme-armis");
      a.run = await syncAndSettle(a.admin, a.source);
      b.source = await create(b.admin, armisB, "globex-armis");
      b.run = await syncAndSettle(b.operator, b.source);
    });
    afterAll(async () => {
      await armisA?.close();
      await armisB?.close();
      await ih?.close();
    });

    it("answers 404 to every route on the other tenant's source and run", async () => {
      const probes: Array<[Method, string, unknown]> = [
        ["GET", `${SOURCES}/${a.source}`, undefined],
        ["PATCH", `${SOURCES}/${a.source}`, doc("integration-sources", { name: "pwned" }, a.source)],
        ["DELETE", `${SOURCES}/${a.source}`, undefined],
        ["POST", `${SOURCES}/${a.source}/sync`, undefined],
        ["GET", `${SOURCES}/${a.source}/runs`, undefined],
        ["GET", `${SOURCES}/${a.source}/relationships/runs`, undefined],
        ["GET", `/api/v2/integration-runs/${a.run}`, undefined],
        ["GET", `/api/v2/integration-runs/${a.run}/source`, undefined],
      ];
      for (const as of [b.admin, b.operator]) {
        for (const [method, path, body] of probes) {
          // The operator may not administer at all: refused before any row is read.
          const expected = as === b.operator && (method === "PATCH" || method === "DELETE") ? 403 : 404;
          const res = await ih.h.call(method, path, { as, ...(body !== undefined ? { body } : {}) });
          expect({ method, path, status: res.status }).toEqual({ method, path, status: expected });
          expect(error(res).code).toBe(expected === 404 ? "SONDE_NOT_FOUND" : "SONDE_FORBIDDEN");
          expect(res.raw).not.toContain(armisA.secret);
          expect(res.raw).not.toContain("acme-armis");
        }
      }
      const mine = one(await ih.h.call("GET", `${SOURCES}/${a.source}`, { as: a.admin }));
      expect(mine.attributes).toMatchObject({ name: "acme-armis", status: "success" });
    });

    it("lists only the tenant's own sources and runs", async () => {
      const sources = many(await ih.h.call("GET", SOURCES, { as: b.admin }));
      expect(sources.map((s) => s.id)).toEqual([b.source]);
      const runs = many(await ih.h.call("GET", "/api/v2/integration-runs", { as: b.admin }));
      expect(runs.map((r) => r.id)).toEqual([b.run]);
      const filtered = await ih.h.call("GET", `/api/v2/integration-runs?filter[source_id]=${a.source}`, {
        as: b.admin,
      });
      expect(many(filtered)).toEqual([]);
      const acmeRuns = many(await ih.h.call("GET", "/api/v2/integration-runs", { as: a.admin }));
      expect(acmeRuns.map((r) => r.id)).toEqual([a.run]);
    });

    it("writes each tenant's sync only into its own inventory", async () => {
      const acme = await devices(a.admin);
      const globex = await devices(b.admin);
      expect(acme).toHaveLength(15);
      expect(globex).toHaveLength(10);
      expect(new Set(acme.map((d) => d.armis))).toEqual(new Set(armisA.records.map((r) => String(r.id))));
      expect(new Set(globex.map((d) => d.armis))).toEqual(new Set(armisB.records.map((r) => String(r.id))));
      const runA = one(await ih.h.call("GET", `/api/v2/integration-runs/${a.run}`, { as: a.admin }));
      const runB = one(await ih.h.call("GET", `/api/v2/integration-runs/${b.run}`, { as: b.admin }));
      // Each created every one of its devices: the other tenant's identical devices were invisible.
      expect(runA.attributes).toMatchObject({ created: 15, merged: 0 });
      expect(runB.attributes).toMatchObject({ created: 10, merged: 0 });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
