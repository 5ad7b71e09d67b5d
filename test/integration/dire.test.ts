/**
 * DIRE's reconciliation rules, each on both databases, through DeviceIngest (the path every source
 * takes) as the system actor of a tenant: identifier priority, partition scoping, MAC-only merges
 * blocked, locally administered MACs, strong ids surviving IP churn, IP fallback, merges and their
 * audit, replay idempotence, source confidence, soft deletes, device limits, concurrent batches.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "../../src/kernel/actor.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { canonicalId, canonicalSeed, uuidFromSeed } from "../../src/domains/inventory/dire/canonical-id.js";
import { IdentityCache } from "../../src/domains/inventory/dire/identity-cache.js";
import { DeviceIngest } from "../../src/domains/inventory/dire/ingest.js";
import type { DeviceUpdateInput } from "../../src/domains/inventory/dire/update.js";
import { openKeyring } from "../../src/platform/crypto/index.js";
import { migrateUp } from "../../src/platform/db/index.js";
import { coreResources } from "../../src/roles/resources.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { serviceGate } from "../support/services.js";

const SECRET = "dire-test-secret-that-is-long-enough-0123456789";
const system = systemActor("dire-test");
const T0 = Date.parse("2026-11-01T00:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

type Row = Record<string, unknown>;

function suite(target: DatabaseTarget) {
  describe(`DIRE reconciliation: ${target.name}`, () => {
    let t: TestDatabase;
    let kernel: Kernel;
    let ingest: DeviceIngest;
    let seq = 0;

    /** A fresh tenant per test, so that rules do not see each other's devices. */
    async function tenant(attrs: Row = {}): Promise<string> {
      seq += 1;
      const rec = await kernel.create(
        kernel.resource("tenant"),
        { actor: system, tenantId: null },
        {
          slug: `dire-${seq}`,
          name: `DIRE ${seq}`,
          ...attrs,
        },
      );
      return String(rec.id);
    }

    const run = (tenantId: string, updates: DeviceUpdateInput[] | unknown[]) =>
      ingest.ingest({ actor: system, tenantId }, updates);

    async function rows(tenantId: string, query: ReturnType<typeof sql>): Promise<Row[]> {
      return inScope(t.db.orm, { tenantId, bypass: false }, (tx) => queryRows<Row>(tx, query));
    }
    const active = (tenantId: string) =>
      rows(
        tenantId,
        sql`select * from devices where merged_into is null and deleted_at is null order by uid`,
      );
    const identifiersOf = (tenantId: string, uid: string) =>
      rows(
        tenantId,
        sql`select type, value, partition, confidence, sightings from device_identifiers where device_id = ${uid} order by type, value`,
      );

    beforeAll(async () => {
      t = await target.open();
      await migrateUp(t.db);
      const keyring = await openKeyring(t.db.orm, SECRET);
      kernel = new Kernel({ orm: t.db.orm, resources: coreResources, logger: silentLogger, keyring });
      ingest = new DeviceIngest({ kernel, logger: silentLogger, cache: new IdentityCache(), batchSize: 50 });
    });
    afterAll(async () => {
      await t?.dispose();
    });

    it("creates a device under the deterministic canonical id of its identifiers", async () => {
      const a = await tenant();
      const res = await run(a, [
        {
          ip: "10.0.0.1",
          mac: "00:bb:cc:00:00:01",
          source: "armis",
          timestamp: at(0),
          metadata: { armis_device_id: "A1" },
        },
      ]);
      expect(res).toMatchObject({ received: 1, created: 1, updated: 0, merged: 0, rejected: [] });
      const [d] = await active(a);
      const expected = canonicalId({
        partition: "default",
        ids: { armis_device_id: "A1", mac: "00BBCC000001" },
      });
      expect(d?.uid).toBe(expected);
      expect(
        canonicalSeed({ partition: "default", ids: { armis_device_id: "A1", mac: "00BBCC000001" } }),
      ).toBe("serviceradar-device-v3:partition:default:armis:A1mac:00BBCC000001");
      expect(d?.mac).toBe("00BBCC000001");
      expect(d?.partition).toBe("default");
      const ids = await identifiersOf(a, String(d?.uid));
      expect(ids.map((i) => [i.type, i.value, i.confidence])).toEqual([
        ["armis_device_id", "A1", "strong"],
        ["mac", "00BBCC000001", "strong"],
      ]);
    });

    it("builds the canonical UUID from SHA-256 with version 4 and variant 10", () => {
      const id = uuidFromSeed("serviceradar-device-v3:partition:default:ip:10.0.0.1");
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(uuidFromSeed("serviceradar-device-v3:partition:default:ip:10.0.0.1")).toBe(id);
      expect(canonicalSeed({ partition: "p1", ids: { ip: "10.0.0.1" } })).toBe(
        "serviceradar-device-v3:partition:p1:ip:10.0.0.1",
      );
      expect(canonicalSeed({ partition: "p1", ids: {} })).toBeUndefined();
      expect(canonicalId({ partition: "p1", ids: {} })).not.toBe(canonicalId({ partition: "p1", ids: {} }));
    });

    it("keeps the same IP in two partitions as two devices", async () => {
      const a = await tenant();
      const res = await run(a, [
        { ip: "192.168.1.10", hostname: "printer", source: "sweep", partition: "site-a", timestamp: at(0) },
        { ip: "192.168.1.10", hostname: "camera", source: "sweep", partition: "site-b", timestamp: at(0) },
        { ip: "192.168.1.10", hostname: "printer", source: "sweep", partition: "site-a", timestamp: at(1) },
      ]);
      expect(res.created).toBe(2);
      const devices = await active(a);
      expect(devices.map((d) => [d.partition, d.hostname]).sort()).toEqual([
        ["site-a", "printer"],
        ["site-b", "camera"],
      ]);
    });

    it("follows a strong identifier through IP churn", async () => {
      const a = await tenant();
      await run(a, [
        { ip: "10.1.0.1", source: "armis", timestamp: at(0), metadata: { armis_device_id: "X" } },
      ]);
      const res = await run(a, [
        { ip: "10.1.0.99", source: "armis", timestamp: at(5), metadata: { armis_device_id: "X" } },
      ]);
      expect(res).toMatchObject({ created: 0, updated: 1 });
      const devices = await active(a);
      expect(devices).toHaveLength(1);
      expect(devices[0]?.ip).toBe("10.1.0.99");
      const aliases = await rows(
        a,
        sql`select alias_value, state from device_alias_states order by alias_value`,
      );
      expect(aliases).toEqual([
        { alias_value: "10.1.0.1", state: "stale" },
        { alias_value: "10.1.0.99", state: "detected" },
      ]);
    });

    it("falls back to the IP within the partition when no strong identifier matches", async () => {
      const a = await tenant();
      await run(a, [
        {
          ip: "10.2.0.5",
          hostname: "core-sw",
          source: "armis",
          timestamp: at(0),
          metadata: { armis_device_id: "S1" },
        },
      ]);
      const res = await run(a, [
        { ip: "10.2.0.5", source: "netbox", timestamp: at(1), metadata: { netbox_device_id: 42 } },
      ]);
      expect(res).toMatchObject({ created: 0, updated: 1 });
      const [d] = await active(a);
      const types = (await identifiersOf(a, String(d?.uid))).map((i) => i.type);
      expect(types).toEqual(["armis_device_id", "netbox_device_id"]);
      // Another partition's address is not a match.
      const other = await run(a, [
        {
          ip: "10.2.0.5",
          source: "netbox",
          partition: "dc2",
          timestamp: at(2),
          metadata: { netbox_device_id: 43 },
        },
      ]);
      expect(other.created).toBe(1);
    });

    it("ignores deleted and merged devices in the IP fallback", async () => {
      const a = await tenant();
      await run(a, [
        { ip: "10.3.0.1", source: "sweep", timestamp: at(0), metadata: { integration_id: "old" } },
      ]);
      await run(a, [
        {
          ip: "10.3.0.1",
          source: "sweep",
          timestamp: at(1),
          metadata: { integration_id: "old", _deleted: true },
        },
      ]);
      const res = await run(a, [
        { ip: "10.3.0.1", source: "sweep", timestamp: at(2), metadata: { integration_id: "new" } },
      ]);
      expect(res.created).toBe(1);
      const all = await rows(
        a,
        sql`select deleted_at is not null as deleted, ip from devices order by deleted`,
      );
      expect(all).toEqual([
        { deleted: false, ip: "10.3.0.1" },
        { deleted: true, ip: null },
      ]);
    });

    it("prefers the highest-priority identifier and merges the other device into it, audited", async () => {
      const a = await tenant();
      await run(a, [
        { ip: "10.4.0.1", source: "armis", timestamp: at(0), metadata: { armis_device_id: "A7" } },
        {
          ip: "10.4.0.2",
          hostname: "nb-host",
          source: "netbox",
          timestamp: at(0),
          metadata: { netbox_device_id: "N7" },
        },
      ]);
      const before = await active(a);
      expect(before).toHaveLength(2);
      const armisDevice = before.find((d) => d.ip === "10.4.0.1");
      const netboxDevice = before.find((d) => d.ip === "10.4.0.2");
      const res = await run(a, [
        {
          ip: "10.4.0.1",
          source: "armis",
          timestamp: at(3),
          metadata: { armis_device_id: "A7", netbox_device_id: "N7" },
        },
      ]);
      expect(res).toMatchObject({ merged: 1, created: 0 });
      const after = await active(a);
      expect(after.map((d) => d.uid)).toEqual([armisDevice?.uid]);
      expect(after[0]?.hostname).toBe("nb-host");
      const ids = await identifiersOf(a, String(armisDevice?.uid));
      expect(ids.map((i) => i.type)).toEqual(["armis_device_id", "netbox_device_id"]);
      const [audit] = await rows(a, sql`select * from merge_audits`);
      expect(audit).toMatchObject({
        from_device_id: netboxDevice?.uid,
        to_device_id: armisDevice?.uid,
        outcome: "merged",
        actor: "system:dire-test",
      });
      expect(audit?.identifiers).toEqual([{ type: "netbox_device_id", value: "N7", partition: "default" }]);
      expect((audit?.snapshot as Row).ip).toBe("10.4.0.2");
      const [merged] = await rows(
        a,
        sql`select merged_into, ip from devices where uid = ${String(netboxDevice?.uid)}`,
      );
      expect(merged).toEqual({ merged_into: armisDevice?.uid, ip: null });
      // The merged device gave its address up: a sighting of it is not the merged device again.
      const again = await run(a, [{ ip: "10.4.0.2", source: "sweep", timestamp: at(4) }]);
      expect(again.created).toBe(1);
      const [still] = await rows(
        a,
        sql`select merged_into from devices where uid = ${String(netboxDevice?.uid)}`,
      );
      expect(still).toEqual({ merged_into: armisDevice?.uid });
    });

    it("lets the update's own canonical id win among several matches", async () => {
      const a = await tenant();
      await run(a, [
        { source: "agent", agent_id: "ag-1", timestamp: at(0) },
        { source: "armis", ip: "10.5.0.1", timestamp: at(0), metadata: { armis_device_id: "A5" } },
      ]);
      const armisUid = canonicalId({ partition: "default", ids: { armis_device_id: "A5", ip: "10.5.0.1" } });
      const res = await run(a, [
        {
          device_id: armisUid,
          agent_id: "ag-1",
          source: "agent",
          timestamp: at(1),
          metadata: { armis_device_id: "A5" },
        },
      ]);
      expect(res.merged).toBe(1);
      expect((await active(a)).map((d) => d.uid)).toEqual([armisUid]);
    });

    it("refuses to merge on MAC evidence alone and records why", async () => {
      const a = await tenant();
      await run(a, [
        {
          ip: "10.6.0.1",
          mac: "00:11:22:33:44:55",
          source: "armis",
          timestamp: at(0),
          metadata: { armis_device_id: "M1" },
        },
        {
          ip: "10.6.0.2",
          mac: "00:11:22:33:44:66",
          source: "armis",
          timestamp: at(0),
          metadata: { armis_device_id: "M2" },
        },
      ]);
      // A sweep sees both MACs behind one address: no strong id links them beyond MACs.
      const res = await run(a, [
        {
          ip: "10.6.0.3",
          mac: "00:11:22:33:44:55",
          source: "sweep",
          timestamp: at(1),
          metadata: { integration_id: "I9" },
        },
      ]);
      expect(res.merged).toBe(0);
      const mixed = await run(a, [
        {
          ip: "10.6.0.1",
          mac: "00:11:22:33:44:66",
          source: "armis",
          timestamp: at(2),
          metadata: { armis_device_id: "M1" },
        },
      ]);
      expect(mixed).toMatchObject({ merged: 0, blocked_merges: 1 });
      expect(await active(a)).toHaveLength(2);
      const audits = await rows(a, sql`select outcome, reason from merge_audits`);
      expect(audits).toEqual([{ outcome: "blocked", reason: "only MAC addresses in common" }]);
      // Replaying records nothing more.
      const replay = await run(a, [
        {
          ip: "10.6.0.1",
          mac: "00:11:22:33:44:66",
          source: "armis",
          timestamp: at(2),
          metadata: { armis_device_id: "M1" },
        },
      ]);
      expect(replay.blocked_merges).toBe(0);
      expect(await rows(a, sql`select count(*)::int as n from merge_audits`)).toEqual([{ n: 1 }]);
    });

    it("registers locally administered MACs as medium and never merges on them", async () => {
      const a = await tenant();
      await run(a, [
        { ip: "10.7.0.1", mac: "02:00:00:00:00:01", source: "agent", agent_id: "vm-1", timestamp: at(0) },
        { ip: "10.7.0.2", source: "agent", agent_id: "vm-2", timestamp: at(0) },
      ]);
      const [first] = await rows(a, sql`select confidence from device_identifiers where type = 'mac'`);
      expect(first).toEqual({ confidence: "medium" });
      const res = await run(a, [
        { ip: "10.7.0.2", mac: "02:00:00:00:00:01", source: "agent", agent_id: "vm-2", timestamp: at(1) },
      ]);
      expect(res).toMatchObject({ merged: 0, blocked_merges: 1 });
      expect(await rows(a, sql`select reason from merge_audits`)).toEqual([
        { reason: "only locally administered MAC addresses in common" },
      ]);
      expect(await active(a)).toHaveLength(2);
    });

    it("promotes a provisional identity after two sightings of a non-MAC strong identifier", async () => {
      const a = await tenant();
      await run(a, [
        {
          ip: "10.8.0.1",
          mac: "00:aa:00:00:00:01",
          source: "armis",
          timestamp: at(0),
          metadata: { armis_device_id: "P1" },
        },
      ]);
      expect((await active(a))[0]?.identity_state).toBe("provisional");
      await run(a, [
        {
          ip: "10.8.0.1",
          mac: "00:aa:00:00:00:01",
          source: "armis",
          timestamp: at(0),
          metadata: { armis_device_id: "P1" },
        },
      ]);
      expect((await active(a))[0]?.identity_state).toBe("provisional");
      await run(a, [
        { ip: "10.8.0.1", source: "armis", timestamp: at(10), metadata: { armis_device_id: "P1" } },
      ]);
      expect((await active(a))[0]?.identity_state).toBe("promoted");
      // MAC sightings alone never promote; two strong types at once do.
      await run(a, [{ ip: "10.8.0.2", mac: "00:aa:00:00:00:02", source: "sweep", timestamp: at(0) }]);
      await run(a, [{ ip: "10.8.0.2", mac: "00:aa:00:00:00:02", source: "sweep", timestamp: at(5) }]);
      await run(a, [
        {
          ip: "10.8.0.3",
          agent_id: "ag-8",
          source: "agent",
          timestamp: at(0),
          metadata: { armis_device_id: "P3" },
        },
      ]);
      const states = Object.fromEntries((await active(a)).map((d) => [d.ip, d.identity_state]));
      expect(states).toEqual({ "10.8.0.1": "promoted", "10.8.0.2": "provisional", "10.8.0.3": "promoted" });
    });

    it("replaying the same input changes nothing", async () => {
      const a = await tenant();
      const input: DeviceUpdateInput[] = Array.from({ length: 120 }, (_, i) => ({
        ip: `10.9.${i >> 8}.${i & 255}`,
        mac: `00:10:00:00:${(i >> 8).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`,
        hostname: `host-${i}`,
        source: i % 3 === 0 ? "netbox" : "armis",
        timestamp: at(i),
        is_available: i % 2 === 0,
        metadata: i % 3 === 0 ? { netbox_device_id: `N${i}` } : { armis_device_id: `A${i}` },
      }));
      const first = await run(a, input);
      expect(first).toMatchObject({ received: 120, created: 120, rejected: [] });
      const snapshot = await rows(a, sql`select * from devices order by uid`);
      const ids = await rows(a, sql`select * from device_identifiers order by id`);
      const aliases = await rows(a, sql`select * from device_alias_states order by id`);
      const replay = await run(a, input);
      expect(replay).toMatchObject({
        received: 120,
        created: 0,
        updated: 0,
        merged: 0,
        deleted: 0,
        rejected: [],
      });
      expect(await rows(a, sql`select * from devices order by uid`)).toEqual(snapshot);
      expect(await rows(a, sql`select * from device_identifiers order by id`)).toEqual(ids);
      expect(await rows(a, sql`select * from device_alias_states order by id`)).toEqual(aliases);
    });

    it("resolves attribute conflicts by source confidence", async () => {
      const a = await tenant();
      await run(a, [
        {
          ip: "10.10.0.1",
          hostname: "from-armis",
          os: "Linux",
          source: "armis",
          timestamp: at(0),
          metadata: { armis_device_id: "C1" },
        },
      ]);
      await run(a, [
        {
          ip: "10.10.0.1",
          hostname: "from-sweep",
          os: "Windows",
          source: "sweep",
          timestamp: at(1),
          metadata: { armis_device_id: "C1" },
        },
      ]);
      expect((await active(a))[0]).toMatchObject({ hostname: "from-armis", os: "Linux" });
      await run(a, [
        {
          ip: "10.10.0.1",
          hostname: "from-snmp",
          source: "snmp",
          timestamp: at(2),
          metadata: { armis_device_id: "C1" },
        },
      ]);
      await run(a, [
        {
          ip: "10.10.0.1",
          hostname: "from-netbox",
          source: "netbox",
          timestamp: at(3),
          metadata: { armis_device_id: "C1" },
        },
      ]);
      const [d] = await active(a);
      expect(d).toMatchObject({ hostname: "from-snmp", os: "Linux" });
      expect(d?.field_sources).toMatchObject({ hostname: "snmp", os: "armis" });
      expect([...(d?.discovery_sources as string[])].sort()).toEqual(["armis", "netbox", "snmp", "sweep"]);
    });

    it("moves an address to the device now reporting it (one active device per IP)", async () => {
      const a = await tenant();
      await run(a, [
        { ip: "10.11.0.1", source: "armis", timestamp: at(0), metadata: { armis_device_id: "R1" } },
        { ip: "10.11.0.2", source: "armis", timestamp: at(0), metadata: { armis_device_id: "R2" } },
      ]);
      // R2 took R1's address (DHCP): R1 gives it up, nothing fails.
      const res = await run(a, [
        { ip: "10.11.0.1", source: "armis", timestamp: at(1), metadata: { armis_device_id: "R2" } },
      ]);
      expect(res.rejected).toEqual([]);
      const byArmis = await rows(
        a,
        sql`select i.value, d.ip from devices d join device_identifiers i on i.device_id = d.uid order by i.value`,
      );
      expect(byArmis).toEqual([
        { value: "R1", ip: null },
        { value: "R2", ip: "10.11.0.1" },
      ]);
      const replaced = await rows(
        a,
        sql`select alias_value, state from device_alias_states where state = 'replaced'`,
      );
      expect(replaced).toEqual([{ alias_value: "10.11.0.1", state: "replaced" }]);
    });

    it("rejects bad records one by one and keeps the good ones", async () => {
      const a = await tenant();
      const res = await run(a, [
        { ip: "10.12.0.1", source: "armis", metadata: { armis_device_id: "G1" } },
        { ip: "not-an-ip", source: "armis" },
        { source: "armis" },
        { ip: "10.12.0.2" },
        "a string",
        { ip: "10.12.0.3", source: "sweep", unknown_field: 1 },
        { ip: "10.12.0.4", source: "sweep" },
      ]);
      expect(res.created).toBe(2);
      expect(res.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4, 5]);
      expect(res.rejected[0]?.reason).toMatch(/^ip: /);
      expect(res.rejected[1]?.reason).toMatch(/no identifier/);
    });

    it("soft-deletes on _deleted and revives on a later sighting", async () => {
      const a = await tenant();
      await run(a, [
        { ip: "10.13.0.1", source: "netbox", timestamp: at(0), metadata: { netbox_device_id: "D1" } },
      ]);
      const del = await run(a, [
        {
          ip: "10.13.0.1",
          source: "netbox",
          timestamp: at(1),
          metadata: { netbox_device_id: "D1", _deleted: "true" },
        },
      ]);
      expect(del.deleted).toBe(1);
      expect(await active(a)).toHaveLength(0);
      const back = await run(a, [
        { ip: "10.13.0.1", source: "netbox", timestamp: at(2), metadata: { netbox_device_id: "D1" } },
      ]);
      expect(back).toMatchObject({ created: 0, updated: 1 });
      expect((await active(a))[0]?.ip).toBe("10.13.0.1");
    });

    it("refuses new devices past the tenant's max_devices, one by one", async () => {
      const a = await tenant({ max_devices: 2 });
      const res = await run(a, [
        { ip: "10.14.0.1", source: "sweep" },
        { ip: "10.14.0.2", source: "sweep" },
        { ip: "10.14.0.3", source: "sweep" },
        { ip: "10.14.0.1", source: "sweep", hostname: "known" },
      ]);
      expect(res.created).toBe(2);
      expect(res.rejected).toEqual([
        { index: 2, reason: "the tenant has reached its device limit (max_devices)" },
      ]);
    });

    it("produces no duplicates from concurrent batches naming the same devices", async () => {
      const a = await tenant();
      const batch = (offset: number): DeviceUpdateInput[] =>
        Array.from({ length: 60 }, (_, i) => ({
          ip: `10.15.0.${i + 1}`,
          source: "armis",
          timestamp: at(offset),
          metadata: { armis_device_id: `CC${i}` },
        }));
      const results = await Promise.all([run(a, batch(0)), run(a, batch(1)), run(a, batch(2))]);
      expect(results.reduce((n, r) => n + r.created, 0)).toBe(60);
      expect(await active(a)).toHaveLength(60);
      expect(await rows(a, sql`select count(*)::int as n from device_identifiers`)).toEqual([{ n: 60 }]);
    });

    it("keeps tenants apart: the same identifiers in another tenant are another device", async () => {
      const a = await tenant();
      const b = await tenant();
      await run(a, [
        {
          ip: "10.16.0.1",
          hostname: "a-host",
          source: "armis",
          timestamp: at(0),
          metadata: { armis_device_id: "SAME" },
        },
      ]);
      const res = await run(b, [
        {
          ip: "10.16.0.1",
          hostname: "b-host",
          source: "armis",
          timestamp: at(1),
          metadata: { armis_device_id: "SAME" },
        },
      ]);
      expect(res.created).toBe(1);
      expect((await active(a))[0]?.hostname).toBe("a-host");
      expect((await active(b))[0]?.hostname).toBe("b-host");
      expect((await active(a))[0]?.uid).toBe((await active(b))[0]?.uid);
    });

    it("refuses viewers through the kernel", async () => {
      const a = await tenant();
      const viewer = {
        kind: "user" as const,
        id: "u-viewer",
        tenantId: a,
        role: "viewer" as const,
        superUser: false,
      };
      await expect(
        ingest.ingest({ actor: viewer }, [{ ip: "10.17.0.1", source: "sweep" }]),
      ).rejects.toMatchObject({
        code: "SONDE_FORBIDDEN",
      });
      expect(await active(a)).toHaveLength(0);
      // Even when every update is invalid: the refusal comes first, not a list of rejections.
      await expect(ingest.ingest({ actor: viewer }, [{ nonsense: true }])).rejects.toMatchObject({
        code: "SONDE_FORBIDDEN",
      });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
