/**
 * The inventory resources over HTTP with real sessions: the role × action matrix (a viewer, an
 * operator and an admin of acme, and the admin's read-scope token), the device calculations, manual
 * identifiers and their derived confidence, relationships and include, archiving alias states, and
 * unmerging a merge DIRE recorded. docs/inventory-resources.md carries the same matrix.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "../../src/kernel/actor.js";
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
import {
  createDevice,
  inTenant,
  insertAliasState,
  recordBlockedMerge,
  recordMerge,
} from "../support/inventory-fixtures.js";
import { serviceGate } from "../support/services.js";

const WHO = ["viewer", "operator", "admin", "read token"] as const;
type Who = (typeof WHO)[number];

const system = systemActor("inventory-tests");

interface World {
  readonly h: IdentityHarness;
  readonly acme: string;
  readonly next: () => number;
}

interface Row {
  readonly method: Method;
  /** `{id}` is replaced by the target's id. */
  readonly path: string;
  /** The record the request is about (or, for creates, the device the new record belongs to). */
  readonly target?: (w: World) => Promise<string>;
  readonly body?: (id: string, n: number) => unknown;
  /** Expected status for viewer, operator, admin, the admin's read token. */
  readonly expect: readonly [number, number, number, number];
  /** The route is not offered at all (404 SONDE_ROUTE_NOT_FOUND for everyone). */
  readonly absent?: true;
}

async function device(w: World): Promise<string> {
  const n = w.next();
  return createDevice(w.h.kernel, w.acme, { hostname: `dev-${n}`, ip: `10.9.${n >> 8}.${n & 255}` });
}
async function make(w: World, resource: string, attributes: Record<string, unknown>): Promise<string> {
  const k = w.h.kernel;
  const rec = await k.create(k.resource(resource), { actor: system, tenantId: w.acme }, attributes);
  return String(rec.id);
}
const group = (w: World) => make(w, "device_group", { name: `group-${w.next()}` });
const iface = async (w: World) => make(w, "interface", { device_id: await device(w), if_index: w.next() });
const identifier = async (w: World) =>
  make(w, "device_identifier", {
    device_id: await device(w),
    identifier_type: "armis_device_id",
    value: `armis-${w.next()}`,
  });
const alias = async (w: World) =>
  insertAliasState(w.h.t.db.orm, w.acme, await device(w), { type: "hostname", value: `alias-${w.next()}` });
const merge = async (w: World) => {
  const n = w.next();
  const from = await createDevice(w.h.kernel, w.acme, { agent_id: `agent-from-${n}` });
  const to = await createDevice(w.h.kernel, w.acme, { agent_id: `agent-to-${n}` });
  return recordMerge(w.h.t.db.orm, w.acme, from, to, [
    { type: "agent_id", value: `agent-from-${n}`, partition: "default" },
  ]);
};

const ip = (n: number) => `10.8.${n >> 8}.${n & 255}`;

const MATRIX: readonly Row[] = [
  // devices
  { method: "GET", path: "/devices", expect: [200, 200, 200, 200] },
  { method: "GET", path: "/devices/{id}", target: device, expect: [200, 200, 200, 200] },
  {
    method: "POST",
    path: "/devices",
    body: (_id, n) => doc("devices", { hostname: `made-${n}`, ip: ip(n) }),
    expect: [403, 201, 201, 403],
  },
  {
    method: "PATCH",
    path: "/devices/{id}",
    target: device,
    body: (id) => doc("devices", { name: "renamed" }, id),
    expect: [403, 200, 200, 403],
  },
  { method: "POST", path: "/devices/{id}/retire", target: device, expect: [403, 200, 200, 403] },
  { method: "DELETE", path: "/devices/{id}", target: device, expect: [403, 403, 204, 403] },
  // device groups
  { method: "GET", path: "/device-groups", expect: [200, 200, 200, 200] },
  { method: "GET", path: "/device-groups/{id}", target: group, expect: [200, 200, 200, 200] },
  {
    method: "POST",
    path: "/device-groups",
    body: (_id, n) => doc("device-groups", { name: `made-${n}` }),
    expect: [403, 201, 201, 403],
  },
  {
    method: "PATCH",
    path: "/device-groups/{id}",
    target: group,
    body: (id) => doc("device-groups", { description: "racks" }, id),
    expect: [403, 200, 200, 403],
  },
  { method: "DELETE", path: "/device-groups/{id}", target: group, expect: [403, 403, 204, 403] },
  // interfaces
  { method: "GET", path: "/interfaces", expect: [200, 200, 200, 200] },
  { method: "GET", path: "/interfaces/{id}", target: iface, expect: [200, 200, 200, 200] },
  {
    method: "POST",
    path: "/interfaces",
    target: device,
    body: (dev, n) => doc("interfaces", { device_id: dev, if_index: n, name: `eth${n}` }),
    expect: [403, 201, 201, 403],
  },
  {
    method: "PATCH",
    path: "/interfaces/{id}",
    target: iface,
    body: (id) => doc("interfaces", { oper_status: "down" }, id),
    expect: [403, 200, 200, 403],
  },
  { method: "DELETE", path: "/interfaces/{id}", target: iface, expect: [403, 403, 204, 403] },
  // device identifiers
  { method: "GET", path: "/device-identifiers", expect: [200, 200, 200, 200] },
  { method: "GET", path: "/device-identifiers/{id}", target: identifier, expect: [200, 200, 200, 200] },
  {
    method: "POST",
    path: "/device-identifiers",
    target: device,
    body: (dev, n) =>
      doc("device-identifiers", { device_id: dev, identifier_type: "netbox_device_id", value: `nb-${n}` }),
    expect: [403, 201, 201, 403],
  },
  {
    method: "PATCH",
    path: "/device-identifiers/{id}",
    target: identifier,
    body: (id) => doc("device-identifiers", { value: "changed" }, id),
    expect: [404, 404, 404, 404],
    absent: true,
  },
  { method: "DELETE", path: "/device-identifiers/{id}", target: identifier, expect: [403, 403, 204, 403] },
  // merge audits
  { method: "GET", path: "/merge-audits", expect: [200, 200, 200, 200] },
  { method: "GET", path: "/merge-audits/{id}", target: merge, expect: [200, 200, 200, 200] },
  { method: "POST", path: "/merge-audits/{id}/unmerge", target: merge, expect: [403, 403, 200, 403] },
  {
    method: "POST",
    path: "/merge-audits",
    body: () => doc("merge-audits", { reason: "forged" }),
    expect: [404, 404, 404, 404],
    absent: true,
  },
  {
    method: "PATCH",
    path: "/merge-audits/{id}",
    target: merge,
    body: (id) => doc("merge-audits", { reason: "rewritten" }, id),
    expect: [404, 404, 404, 404],
    absent: true,
  },
  { method: "DELETE", path: "/merge-audits/{id}", target: merge, expect: [404, 404, 404, 404], absent: true },
  // device alias states
  { method: "GET", path: "/device-alias-states", expect: [200, 200, 200, 200] },
  { method: "GET", path: "/device-alias-states/{id}", target: alias, expect: [200, 200, 200, 200] },
  { method: "POST", path: "/device-alias-states/{id}/archive", target: alias, expect: [403, 200, 200, 403] },
  {
    method: "POST",
    path: "/device-alias-states",
    body: () => doc("device-alias-states", { alias_value: "forged" }),
    expect: [404, 404, 404, 404],
    absent: true,
  },
  {
    method: "DELETE",
    path: "/device-alias-states/{id}",
    target: alias,
    expect: [404, 404, 404, 404],
    absent: true,
  },
];

function suite(target: DatabaseTarget) {
  describe(`inventory resources: ${target.name}`, () => {
    let h: IdentityHarness;
    let w: World;
    let acme: string;
    let adminId: string;
    const creds = new Map<Who, CallOptions>();
    /** Tenants whose DIRE identity cache was invalidated, in order. */
    const forgotten: string[] = [];

    const call = (method: Method, path: string, who: Who, body?: unknown): Promise<Res> =>
      h.call(method, `/api/v2${path}`, { ...creds.get(who), ...(body !== undefined ? { body } : {}) });
    const expectStatus = (res: Res, status: number) => expect(res.status, res.raw).toBe(status);

    beforeAll(async () => {
      h = await openIdentityHarness(target, {
        identityCache: { invalidateTenant: (tenantId) => forgotten.push(tenantId) },
      });
      acme = await h.createTenant("acme");
      for (const role of ["viewer", "operator", "admin"] as const) {
        const id = await h.createUser(`${role}@acme.example`);
        if (role === "admin") adminId = id;
        await h.addMember(acme, id, role);
        creds.set(role, { as: await h.signIn(`${role}@acme.example`) });
      }
      const { token } = await h.mintToken(creds.get("admin")?.as, { name: "read-only", scope: "read" });
      creds.set("read token", { as: { token } });
      let n = 0;
      w = { h, acme, next: () => ++n };
    });
    afterAll(async () => h?.close());

    for (const [n, row] of MATRIX.entries()) {
      it(`#${n} ${row.method} ${row.path}${row.target ? ` (${row.target.name})` : ""}`, async () => {
        for (const [i, who] of WHO.entries()) {
          const id = row.target !== undefined ? await row.target(w) : "";
          const body = row.body?.(id, w.next());
          const res = await call(row.method, row.path.replace("{id}", id), who, body);
          expect({ who, status: res.status }, res.raw).toEqual({ who, status: row.expect[i] });
          if (res.status === 403) expect(error(res).code).toBe("SONDE_FORBIDDEN");
          if (res.status === 404) {
            expect(error(res).code).toBe(row.absent ? "SONDE_ROUTE_NOT_FOUND" : "SONDE_NOT_FOUND");
          }
        }
      });
    }

    it("calculates display_name, status_color and type_name", async () => {
      const create = async (attributes: Record<string, unknown>) => {
        const res = await call("POST", "/devices", "operator", doc("devices", attributes));
        expectStatus(res, 201);
        return one(res).id;
      };
      const router = await create({ name: "core-1", hostname: "core-1.acme", ip: "10.20.0.1", type_id: 12 });
      const custom = await create({ hostname: "edge.acme", ip: "10.20.0.2", device_type: "Custom Box" });
      const bare = await create({ ip: "10.20.0.3" });
      const macOnly = await create({ mac: "00:aa:bb:cc:dd:ee", type_id: 42 });
      // Sightings are DIRE's to record, not an API attribute: set them as the system would.
      const seen = async (uid: string, available: boolean, minutesAgo: number) =>
        inTenant(
          h.t.db.orm,
          acme,
          sql`update devices set is_available = ${available},
              last_seen_time = now() - make_interval(mins => ${minutesAgo}::int) where uid = ${uid}`,
        );
      await seen(router, true, 300);
      await seen(custom, false, 10);
      await seen(bare, false, 120);
      await seen(macOnly, false, 61);

      const res = await call("GET", "/devices?page[size]=1000", "viewer");
      const byId = new Map(many(res).map((d) => [d.id, d.attributes]));
      const calc = (uid: string) => {
        const a = byId.get(uid);
        return [a?.display_name, a?.status_color, a?.type_name];
      };
      expect(calc(router)).toEqual(["core-1", "green", "Router"]);
      expect(calc(custom)).toEqual(["edge.acme", "yellow", "Custom Box"]);
      expect(calc(bare)).toEqual(["10.20.0.3", "red", "Unknown"]);
      expect(calc(macOnly)).toEqual(["00AABBCCDDEE", "red", "Other"]);

      const red = many(await call("GET", "/devices?filter[status_color]=red&page[size]=1000", "viewer"));
      expect(red.map((d) => d.id)).toEqual(expect.arrayContaining([bare, macOnly]));
      expect(red.map((d) => d.id)).not.toContain(router);
      expect(red.map((d) => d.id)).not.toContain(custom);
    });

    it("derives a manual identifier's value, source, partition and confidence", async () => {
      const dev = await device(w);
      const add = (attributes: Record<string, unknown>, who: Who = "operator") =>
        call(
          "POST",
          "/device-identifiers",
          who,
          doc("device-identifiers", { device_id: dev, ...attributes }),
        );
      const derived = async (attributes: Record<string, unknown>) => {
        const res = await add(attributes);
        expectStatus(res, 201);
        const a = one(res).attributes;
        return [a.value, a.confidence, a.source, a.partition];
      };
      expect(await derived({ identifier_type: "mac", value: "00:1a:2b:3c:4d:5e" })).toEqual([
        "001A2B3C4D5E",
        "strong",
        "manual",
        "default",
      ]);
      // 0x02 in the first octet: locally administered (a VM, a randomising phone).
      expect(await derived({ identifier_type: "mac", value: "02-00-5e-10-00-01" })).toEqual([
        "02005E100001",
        "medium",
        "manual",
        "default",
      ]);
      expect(await derived({ identifier_type: "ip", value: "10.30.0.9" })).toEqual([
        "10.30.0.9",
        "weak",
        "manual",
        "default",
      ]);
      expect(await derived({ identifier_type: "ip", value: "FE80::1" })).toEqual([
        "fe80::1",
        "weak",
        "manual",
        "default",
      ]);
      expect(
        await derived({ identifier_type: "armis_device_id", value: "A-123", partition: "site-b" }),
      ).toEqual(["A-123", "strong", "manual", "site-b"]);
      expect(await derived({ identifier_type: "agent_id", value: "agent-manual" })).toEqual([
        "agent-manual",
        "strong",
        "manual",
        "default",
      ]);

      // Confidence and source are derived, never taken from the caller.
      for (const extra of [{ confidence: "strong" }, { source: "armis" }]) {
        const res = await add({ identifier_type: "ip", value: "10.30.0.10", ...extra });
        expectStatus(res, 422);
        expect(error(res).source?.pointer).toBe(`/data/attributes/${Object.keys(extra)[0]}`);
      }
      const badMac = await add({ identifier_type: "mac", value: "not-a-mac" });
      expectStatus(badMac, 422);
      expect(error(badMac).source?.pointer).toBe("/data/attributes/value");
      const badIp = await add({ identifier_type: "ip", value: "10.300.0.1" });
      expectStatus(badIp, 422);
      const taken = await add({ identifier_type: "mac", value: "00-1A-2B-3C-4D-5E" });
      expectStatus(taken, 409);
      expect(error(taken).code).toBe("SONDE_DB_UNIQUE_VIOLATION");
      const noDevice = await add({ identifier_type: "agent_id", value: "x", device_id: "sr:nope" });
      expectStatus(noDevice, 422);

      const listed = many(await call("GET", `/devices/${dev}/identifiers`, "viewer"));
      expect(listed.filter((i) => i.attributes.source === "manual")).toHaveLength(6);
    });

    it("forgets the tenant's cached identities after identifiers change", async () => {
      forgotten.length = 0;
      const dev = await device(w);
      const res = await call(
        "POST",
        "/device-identifiers",
        "operator",
        doc("device-identifiers", { device_id: dev, identifier_type: "integration_id", value: "int-1" }),
      );
      expectStatus(res, 201);
      expect(forgotten).toEqual([acme]);
      expectStatus(await call("DELETE", `/device-identifiers/${one(res).id}`, "admin"), 204);
      expect(forgotten).toEqual([acme, acme]);
      // A refused write changes nothing and forgets nothing.
      expectStatus(await call("DELETE", `/device-identifiers/${one(res).id}`, "viewer"), 403);
      expect(forgotten).toHaveLength(2);
    });

    it("serves relationships, related records, includes and aggregates", async () => {
      const g = await call("POST", "/device-groups", "operator", doc("device-groups", { name: "rack-7" }));
      expectStatus(g, 201);
      const groupId = one(g).id;
      const created = await call("POST", "/devices", "operator", {
        data: {
          type: "devices",
          attributes: { hostname: "sw-7.acme", ip: "10.50.0.7", mac: "00:50:56:00:00:07" },
          relationships: { group: { data: { type: "device-groups", id: groupId } } },
        },
      });
      expectStatus(created, 201);
      const dev = one(created).id;
      expect(one(created).relationships?.group?.data).toEqual({ type: "device-groups", id: groupId });
      const ifRes = await call("POST", "/interfaces", "operator", {
        data: {
          type: "interfaces",
          attributes: {
            if_index: 1,
            name: "ge-0/0/1",
            mac: "00:50:56:00:01:01",
            ip_addresses: ["10.50.0.7"],
          },
          relationships: { device: { data: { type: "devices", id: dev } } },
        },
      });
      expectStatus(ifRes, 201);
      expect(one(ifRes).attributes).toMatchObject({ device_id: dev, mac: "005056000101" });
      const ifId = one(ifRes).id;
      const idRes = await call(
        "POST",
        "/device-identifiers",
        "operator",
        doc("device-identifiers", { device_id: dev, identifier_type: "netbox_device_id", value: "nb-7" }),
      );
      expectStatus(idRes, 201);
      const aliasId = await insertAliasState(h.t.db.orm, acme, dev, { type: "ip", value: "10.50.9.9" });

      const full = await call(
        "GET",
        `/devices/${dev}?include=group,identifiers,interfaces,alias_states` +
          `&fields[devices]=display_name,identifier_count,interface_count,group,identifiers,interfaces,alias_states`,
        "viewer",
      );
      expectStatus(full, 200);
      const d = one(full);
      // The MAC given on create and the NetBox id added since.
      expect(d.attributes).toEqual({ display_name: "sw-7.acme", identifier_count: 2, interface_count: 1 });
      expect(d.relationships?.group?.data).toEqual({ type: "device-groups", id: groupId });
      expect(d.relationships?.interfaces?.data).toEqual([{ type: "interfaces", id: ifId }]);
      expect(d.relationships?.alias_states?.data).toEqual([{ type: "device-alias-states", id: aliasId }]);
      expect(d.relationships?.identifiers?.data).toHaveLength(2);
      const included = (full.doc.included ?? []).map((r) => `${r.type}/${r.id}`);
      expect(included).toEqual(
        expect.arrayContaining([
          `device-groups/${groupId}`,
          `interfaces/${ifId}`,
          `device-alias-states/${aliasId}`,
          `device-identifiers/${one(idRes).id}`,
        ]),
      );
      expect(included).toHaveLength(5);

      const linkage = await call("GET", `/devices/${dev}/relationships/group`, "viewer");
      expect(linkage.doc.data).toEqual({ type: "device-groups", id: groupId });
      const ids = many(await call("GET", `/devices/${dev}/identifiers`, "viewer"));
      expect(ids.map((i) => i.attributes.value).sort()).toEqual(["005056000007", "nb-7"]);
      expect(one(await call("GET", `/interfaces/${ifId}/device`, "viewer")).id).toBe(dev);
      expect(one(await call("GET", `/device-alias-states/${aliasId}/device`, "viewer")).id).toBe(dev);
      const members = many(await call("GET", `/device-groups/${groupId}/devices`, "viewer"));
      expect(members.map((m) => m.id)).toEqual([dev]);
      const counted = await call(
        "GET",
        `/device-groups/${groupId}?fields[device-groups]=name,device_count`,
        "viewer",
      );
      expect(one(counted).attributes).toEqual({ name: "rack-7", device_count: 1 });
      const withDevice = await call(
        "GET",
        `/device-identifiers?filter[device_id]=${encodeURIComponent(dev)}&include=device`,
        "viewer",
      );
      expect((withDevice.doc.included ?? []).map((r) => r.id)).toEqual([dev]);
      const sorted = many(
        await call("GET", "/devices?sort=-identifier_count&fields[devices]=identifier_count", "viewer"),
      );
      const counts = sorted.map((s) => Number(s.attributes.identifier_count));
      expect(counts).toEqual([...counts].sort((a, b) => b - a));
    });

    it("archives an alias state once, with its transition in the history", async () => {
      const dev = await device(w);
      const id = await insertAliasState(h.t.db.orm, acme, dev, {
        type: "ip",
        value: "10.60.0.1",
        state: "stale",
      });
      const res = await call("POST", `/device-alias-states/${id}/archive`, "operator");
      expectStatus(res, 200);
      expect(one(res).attributes.state).toBe("archived");
      const again = await call("POST", `/device-alias-states/${id}/archive`, "operator");
      expectStatus(again, 409);
      expect(error(again).code).toBe("SONDE_INVALID_TRANSITION");
      const history = await call("GET", `/device-alias-states/${id}/history`, "viewer");
      expect(history.doc.meta?.history).toEqual([
        expect.objectContaining({ action: "archive", from: "stale", to: "archived", actor_kind: "user" }),
      ]);
    });

    describe("unmerge", () => {
      const orm = () => h.t.db.orm;
      const attrs = async (path: string) => one(await call("GET", path, "admin")).attributes;
      const identifiersOf = async (uid: string) =>
        many(await call("GET", `/devices/${uid}/identifiers`, "admin"))
          .map((i) => `${String(i.attributes.identifier_type)}:${String(i.attributes.value)}`)
          .sort();

      it("moves the identifiers back and restores the device from its snapshot", async () => {
        const k = h.kernel;
        const from = await createDevice(k, acme, {
          name: "edge-old",
          hostname: "edge-old.acme",
          ip: "10.40.0.5",
          mac: "00:11:22:33:44:55",
          agent_id: "agent-old",
          tags: ["lab"],
        });
        const to = await createDevice(k, acme, {
          name: "edge",
          hostname: "edge.acme",
          agent_id: "agent-new",
        });
        const elsewhere = await createDevice(k, acme, { ip: "10.40.0.7" });
        await make(w, "device_identifier", { device_id: from, identifier_type: "ip", value: "10.40.0.99" });
        const before = await attrs(`/devices/${from}`);
        const audit = await recordMerge(orm(), acme, from, to, [
          { type: "agent_id", value: "agent-old", partition: "default" },
          { type: "mac", value: "001122334455", partition: "default" },
          { type: "ip", value: "10.40.0.99", partition: "default" },
        ]);
        // Since the merge, a sync saw the IP identifier on another device: it stays there.
        await inTenant(
          orm(),
          acme,
          sql`update device_identifiers set device_id = ${elsewhere} where value = '10.40.0.99'`,
        );
        expect(await identifiersOf(from)).toEqual([]);
        expect((await attrs(`/devices/${from}`)).merged_into).toBe(to);
        forgotten.length = 0;

        const res = await call("POST", `/merge-audits/${audit}/unmerge`, "admin");
        expectStatus(res, 200);
        const a = one(res).attributes;
        expect(a).toMatchObject({ outcome: "unmerged", unmerged_by: adminId });
        expect(Date.now() - Date.parse(String(a.unmerged_at))).toBeLessThan(60_000);
        expect(forgotten).toEqual([acme]);

        expect(await identifiersOf(from)).toEqual(["agent_id:agent-old", "mac:001122334455"]);
        expect(await identifiersOf(to)).toEqual(["agent_id:agent-new"]);
        expect(await identifiersOf(elsewhere)).toEqual(["ip:10.40.0.99"]);
        const after = await attrs(`/devices/${from}`);
        expect(after).toMatchObject({
          name: "edge-old",
          hostname: "edge-old.acme",
          ip: "10.40.0.5",
          mac: "001122334455",
          tags: ["lab"],
          merged_into: null,
          deleted_at: null,
          last_seen_time: before.last_seen_time,
          discovery_sources: before.discovery_sources,
        });

        const history = await call("GET", `/merge-audits/${audit}/history`, "viewer");
        expect(history.doc.meta?.history).toEqual([
          expect.objectContaining({ action: "unmerge", from: "merged", to: "unmerged", actor_id: adminId }),
        ]);
        const twice = await call("POST", `/merge-audits/${audit}/unmerge`, "admin");
        expectStatus(twice, 409);
        expect(error(twice).code).toBe("SONDE_INVALID_TRANSITION");
        const withDevices = await call(
          "GET",
          `/merge-audits/${audit}?include=from_device,to_device`,
          "viewer",
        );
        expect((withDevices.doc.included ?? []).map((r) => r.id).sort()).toEqual([from, to].sort());
      });

      it("leaves the IP to the active device that holds it now", async () => {
        const k = h.kernel;
        const from = await createDevice(k, acme, {
          hostname: "old.acme",
          ip: "10.40.1.5",
          agent_id: "agent-o2",
        });
        const to = await createDevice(k, acme, {
          hostname: "new.acme",
          ip: "10.40.1.6",
          agent_id: "agent-n2",
        });
        const audit = await recordMerge(orm(), acme, from, to, [
          { type: "agent_id", value: "agent-o2", partition: "default" },
        ]);
        // The survivor took the merged device's address, as a merge may.
        await inTenant(orm(), acme, sql`update devices set ip = '10.40.1.5' where uid = ${to}`);

        expectStatus(await call("POST", `/merge-audits/${audit}/unmerge`, "admin"), 200);
        expect(await attrs(`/devices/${from}`)).toMatchObject({
          hostname: "old.acme",
          ip: null,
          merged_into: null,
          deleted_at: null,
        });
        expect((await attrs(`/devices/${to}`)).ip).toBe("10.40.1.5");
        expect(await identifiersOf(from)).toEqual(["agent_id:agent-o2"]);
      });

      it("refuses blocked merges and merges whose device is gone, changing nothing", async () => {
        const k = h.kernel;
        const a = await createDevice(k, acme, { agent_id: "agent-b1" });
        const b = await createDevice(k, acme, { agent_id: "agent-b2" });
        const blocked = await recordBlockedMerge(orm(), acme, a, b);
        const res = await call("POST", `/merge-audits/${blocked}/unmerge`, "admin");
        expectStatus(res, 409);
        expect(error(res).code).toBe("SONDE_INVALID_TRANSITION");
        expect((await attrs(`/merge-audits/${blocked}`)).outcome).toBe("blocked");

        const gone = await createDevice(k, acme, { agent_id: "agent-gone" });
        const audit = await recordMerge(orm(), acme, gone, b, [
          { type: "agent_id", value: "agent-gone", partition: "default" },
        ]);
        await k.destroy(k.resource("device"), { actor: system, tenantId: acme }, gone);
        const refused = await call("POST", `/merge-audits/${audit}/unmerge`, "admin");
        expectStatus(refused, 409);
        expect(error(refused).code).toBe("SONDE_CONFLICT");
        // Rolled back as a whole: still merged, nothing moved.
        expect(await attrs(`/merge-audits/${audit}`)).toMatchObject({ outcome: "merged", unmerged_by: null });
        expect(await identifiersOf(b)).toEqual(["agent_id:agent-b2", "agent_id:agent-gone"]);
        const history = await call("GET", `/merge-audits/${audit}/history`, "admin");
        expect(history.doc.meta?.history).toEqual([]);
      });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
