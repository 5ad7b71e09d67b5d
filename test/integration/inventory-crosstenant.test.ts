/**
 * Cross-tenant probes on the inventory resources: the admin of bravo, with a session and with an
 * admin token, aims every inventory route at alpha's devices, interfaces, groups, identifiers, merge
 * audits and alias states by id, and points bravo's own records at them. Nothing of alpha may come
 * back (404, or 422 for a reference), lists, filters and includes never show its rows, its records
 * stay unchanged, and row-level security alone hides them from raw SQL in bravo's scope.
 *
 * Canonical ids are the same in every tenant for the same identifiers: both tenants hold a device
 * with the same id, and bravo must only ever see its own.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "../../src/kernel/actor.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import {
  type CallOptions,
  doc,
  error,
  type IdentityHarness,
  many,
  type Method,
  one,
  openIdentityHarness,
  type Res,
} from "../support/identity-harness.js";
import { createDevice, inTenant, insertAliasState, recordMerge } from "../support/inventory-fixtures.js";
import { serviceGate } from "../support/services.js";

const system = systemActor("cross-tenant");

const TABLES = [
  "devices",
  "device_groups",
  "interfaces",
  "device_identifiers",
  "merge_audits",
  "device_alias_states",
];

function suite(target: DatabaseTarget) {
  describe(`inventory cross-tenant probes: ${target.name}`, () => {
    let h: IdentityHarness;
    let alpha: string;
    let bravo: string;
    /** alpha's records. */
    const a = {
      device: "",
      survivor: "",
      shared: "",
      group: "",
      iface: "",
      identifier: "",
      merge: "",
      alias: "",
    };
    /** bravo's device with the same canonical id as alpha's `shared`. */
    let bravoShared = "";
    const creds: Array<[string, CallOptions]> = [];
    /** Strings that name alpha's data; none may appear in a response to bravo. */
    let secrets: readonly string[] = [];

    const noLeak = (res: Res, path = "") => {
      for (const s of secrets) {
        if (!path.includes(s)) expect(res.raw, `${res.status} leaked ${s}`).not.toContain(s);
      }
    };

    beforeAll(async () => {
      h = await openIdentityHarness(target);
      alpha = await h.createTenant("alpha");
      bravo = await h.createTenant("bravo");
      const k = h.kernel;
      const inAlpha = { actor: system, tenantId: alpha };
      const make = async (resource: string, attributes: Record<string, unknown>) =>
        String((await k.create(k.resource(resource), inAlpha, attributes)).id);

      a.group = await make("device_group", { name: "alpha-secret-group", description: "alpha racks" });
      a.device = await createDevice(k, alpha, {
        hostname: "alpha-secret-host",
        ip: "10.77.0.1",
        mac: "00:77:77:77:77:01",
        group_id: a.group,
      });
      a.survivor = await createDevice(k, alpha, {
        hostname: "alpha-survivor",
        agent_id: "alpha-agent-survivor",
      });
      a.shared = await createDevice(k, alpha, { hostname: "alpha-shared-host", agent_id: "agent-shared" });
      a.iface = await make("interface", { device_id: a.device, if_index: 7, name: "alpha-if-secret" });
      a.identifier = await make("device_identifier", {
        device_id: a.device,
        identifier_type: "armis_device_id",
        value: "alpha-armis-777",
      });
      a.alias = await insertAliasState(h.t.db.orm, alpha, a.device, {
        type: "hostname",
        value: "alpha-alias.example",
      });
      const merged = await createDevice(k, alpha, {
        hostname: "alpha-merged-host",
        agent_id: "alpha-agent-merged",
      });
      a.merge = await recordMerge(h.t.db.orm, alpha, merged, a.survivor, [
        { type: "agent_id", value: "alpha-agent-merged", partition: "default" },
      ]);

      bravoShared = await createDevice(k, bravo, { hostname: "bravo-host", agent_id: "agent-shared" });
      const ada = await h.createUser("ada@bravo.example");
      await h.addMember(bravo, ada, "admin");
      const session = await h.signIn("ada@bravo.example");
      const { token } = await h.mintToken(session, { name: "bravo-admin", scope: "admin" });
      creds.push(["session", { as: session }], ["admin token", { as: { token } }]);

      secrets = [
        "alpha-secret",
        "alpha-survivor",
        "alpha-shared-host",
        "alpha-merged-host",
        "alpha-if-secret",
        "alpha-armis-777",
        "alpha-alias",
        "alpha-agent",
        "alpha racks",
        "10.77.0.1",
        "007777777701",
        a.device,
        a.survivor,
        a.group,
        a.iface,
        a.identifier,
        a.merge,
        a.alias,
        alpha,
      ];
    });
    afterAll(async () => h?.close());

    it("shares canonical ids across tenants: one id, two devices", () => {
      expect(bravoShared).toBe(a.shared);
    });

    it("answers 404 on every route by alpha's ids", async () => {
      const probes: Array<[Method, string, unknown]> = [
        ["GET", `/devices/${a.device}`, undefined],
        ["PATCH", `/devices/${a.device}`, doc("devices", { name: "pwned" }, a.device)],
        ["POST", `/devices/${a.device}/retire`, undefined],
        ["DELETE", `/devices/${a.device}`, undefined],
        ["GET", `/devices/${a.device}/identifiers`, undefined],
        ["GET", `/devices/${a.device}/interfaces`, undefined],
        ["GET", `/devices/${a.device}/alias_states`, undefined],
        ["GET", `/devices/${a.device}/group`, undefined],
        ["GET", `/devices/${a.device}/relationships/group`, undefined],
        ["GET", `/interfaces/${a.iface}`, undefined],
        ["PATCH", `/interfaces/${a.iface}`, doc("interfaces", { name: "pwned" }, a.iface)],
        ["DELETE", `/interfaces/${a.iface}`, undefined],
        ["GET", `/interfaces/${a.iface}/device`, undefined],
        ["GET", `/device-groups/${a.group}`, undefined],
        ["PATCH", `/device-groups/${a.group}`, doc("device-groups", { name: "pwned" }, a.group)],
        ["DELETE", `/device-groups/${a.group}`, undefined],
        ["GET", `/device-groups/${a.group}/devices`, undefined],
        ["GET", `/device-identifiers/${a.identifier}`, undefined],
        ["DELETE", `/device-identifiers/${a.identifier}`, undefined],
        ["GET", `/device-identifiers/${a.identifier}/device`, undefined],
        ["GET", `/merge-audits/${a.merge}`, undefined],
        ["POST", `/merge-audits/${a.merge}/unmerge`, undefined],
        ["GET", `/merge-audits/${a.merge}/history`, undefined],
        ["GET", `/merge-audits/${a.merge}/from_device`, undefined],
        ["GET", `/device-alias-states/${a.alias}`, undefined],
        ["POST", `/device-alias-states/${a.alias}/archive`, undefined],
        ["GET", `/device-alias-states/${a.alias}/history`, undefined],
      ];
      for (const [label, cred] of creds) {
        for (const [method, path, body] of probes) {
          const res = await h.call(method, `/api/v2${path}`, {
            ...cred,
            ...(body !== undefined ? { body } : {}),
          });
          expect({ label, method, path, status: res.status }).toEqual({ label, method, path, status: 404 });
          expect(error(res).code).toBe("SONDE_NOT_FOUND");
          noLeak(res, path);
        }
      }
    });

    it("refuses bravo's records that point at alpha's (422, as if they did not exist)", async () => {
      const writes: Array<[Method, string, unknown, string]> = [
        ["POST", "/interfaces", doc("interfaces", { device_id: a.device, if_index: 1 }), "device_id"],
        [
          "POST",
          "/device-identifiers",
          doc("device-identifiers", { device_id: a.device, identifier_type: "agent_id", value: "x" }),
          "device_id",
        ],
        ["POST", "/devices", doc("devices", { hostname: "bravo-2", group_id: a.group }), "group_id"],
        ["PATCH", `/devices/${bravoShared}`, doc("devices", { group_id: a.group }, bravoShared), "group_id"],
        [
          "POST",
          "/devices",
          {
            data: {
              type: "devices",
              attributes: { hostname: "bravo-3" },
              relationships: { group: { data: { type: "device-groups", id: a.group } } },
            },
          },
          "group_id",
        ],
      ];
      for (const [label, cred] of creds) {
        for (const [method, path, body, field] of writes) {
          const res = await h.call(method, `/api/v2${path}`, { ...cred, body });
          expect({ label, path, status: res.status }).toEqual({ label, path, status: 422 });
          expect(error(res).source?.pointer).toBe(`/data/attributes/${field}`);
          noLeak(res);
        }
      }
    });

    it("never lists, filters or includes alpha's rows", async () => {
      for (const [, cred] of creds) {
        for (const path of [
          "/devices?include=group,identifiers,interfaces,alias_states&page[size]=1000",
          "/devices?fields[devices]=hostname,identifier_count,interface_count&sort=-identifier_count",
          "/devices?filter[hostname]=alpha-secret-host",
          "/devices?filter[ip]=10.77.0.1",
          `/devices?filter[group_id]=${a.group}`,
          "/device-groups?include=devices&fields[device-groups]=name,device_count",
          "/device-groups?filter[name]=alpha-secret-group",
          `/interfaces?filter[device_id]=${a.device}&include=device`,
          "/interfaces?filter[name]=alpha-if-secret",
          "/device-identifiers?include=device&page[size]=1000",
          "/device-identifiers?filter[value]=alpha-armis-777",
          "/merge-audits?include=from_device,to_device",
          `/merge-audits?filter[to_device_id]=${a.survivor}`,
          "/device-alias-states?include=device",
          "/device-alias-states?filter[alias_value]=alpha-alias.example",
        ]) {
          const res = await h.call("GET", `/api/v2${path}`, cred);
          expect(res.status, path).toBe(200);
          expect(
            many(res).every((r) => !secrets.includes(r.id)),
            path,
          ).toBe(true);
          noLeak(res, decodeURIComponent(path));
        }
      }
    });

    it("shows bravo its own device under the shared id, with its own identifiers only", async () => {
      for (const [, cred] of creds) {
        const res = await h.call(
          "GET",
          `/api/v2/devices/${bravoShared}?include=identifiers&fields[devices]=hostname,identifier_count,identifiers`,
          cred,
        );
        expect(res.status).toBe(200);
        expect(one(res).attributes).toEqual({ hostname: "bravo-host", identifier_count: 1 });
        expect((res.doc.included ?? []).map((r) => r.attributes.value)).toEqual(["agent-shared"]);
        noLeak(res, bravoShared);
      }
      const listed = many(await h.call("GET", "/api/v2/devices?page[size]=1000", creds[0]?.[1]));
      expect(listed.map((d) => d.attributes.hostname)).toEqual(["bravo-host"]);
    });

    it("leaves alpha's records as they were", async () => {
      const k = h.kernel;
      const ctx = { actor: system, tenantId: alpha };
      const device = await k.get(k.resource("device"), ctx, a.device);
      expect([device.hostname, device.name, device.deleted_at, device.group_id]).toEqual([
        "alpha-secret-host",
        null,
        null,
        a.group,
      ]);
      expect((await k.get(k.resource("device_group"), ctx, a.group)).name).toBe("alpha-secret-group");
      expect((await k.get(k.resource("interface"), ctx, a.iface)).name).toBe("alpha-if-secret");
      expect((await k.get(k.resource("device_identifier"), ctx, a.identifier)).value).toBe("alpha-armis-777");
      expect((await k.get(k.resource("merge_audit"), ctx, a.merge)).outcome).toBe("merged");
      expect((await k.get(k.resource("device_alias_state"), ctx, a.alias)).state).toBe("detected");
      const shared = await k.get(k.resource("device"), ctx, a.shared);
      expect(shared.hostname).toBe("alpha-shared-host");
    });

    it("hides alpha's rows from raw SQL in bravo's scope (row-level security alone)", async () => {
      for (const table of TABLES) {
        const rows = await inTenant<{ tenant_id: string }>(
          h.t.db.orm,
          bravo,
          sql`select tenant_id from ${sql.identifier(table)}`,
        );
        expect(
          rows.every((r) => r.tenant_id === bravo),
          table,
        ).toBe(true);
      }
      const [devices] = await inTenant<{ n: number }>(
        h.t.db.orm,
        bravo,
        sql`select count(*)::int as n from devices`,
      );
      expect(devices?.n).toBe(1);
      const [byId] = await inTenant<{ n: number }>(
        h.t.db.orm,
        bravo,
        sql`select count(*)::int as n from devices where uid in (${a.device}, ${a.shared})`,
      );
      expect(byId?.n).toBe(1);
      // The same statement across tenants sees both: the test would notice a no-op.
      await inScope(h.t.db.orm, { tenantId: null, bypass: true }, async (tx) => {
        for (const table of TABLES) {
          const rows = await queryRows<{ n: number }>(
            tx,
            sql`select count(distinct tenant_id)::int as n from ${sql.identifier(table)}`,
          );
          expect(rows[0]?.n, table).toBe(table === "devices" || table === "device_identifiers" ? 2 : 1);
        }
      });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
