import { sql } from "drizzle-orm";
import { pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateKeys } from "../../src/cli/keys.js";
import type { ActionContext } from "../../src/kernel/pipeline/authorize.js";
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
import type { AnyResource } from "../../src/kernel/resource/types.js";
import { tenantRlsSql } from "../../src/kernel/tenancy/rls.js";
import { inScope, queryRows, type TenantScope } from "../../src/kernel/tenancy/transaction.js";
import { type Keyring, listKeys, openKeyring } from "../../src/platform/crypto/index.js";
import { openDatabase } from "../../src/platform/db/index.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { serviceGate } from "../support/services.js";

const SECRET = "a-test-secret-of-more-than-32-characters";
const WRONG = "another-secret-of-more-than-32-characters";

/** A test-only resource with two encrypted attributes, on its own table under row-level security. */
const contactsTable = pgTable("crypto_contacts", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenant_id: uuid("tenant_id").notNull(),
  name: text("name").notNull(),
  email: text("email"),
  note: text("note"),
  created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
const DDL = `
create table crypto_contacts (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants(id) on delete cascade,
  name text not null,
  email text,
  note text,
  created_at timestamptz not null default now()
);
${tenantRlsSql("crypto_contacts")}
`;
const contacts = defineResource({
  name: "crypto_contact",
  table: contactsTable,
  tenancy: "tenant",
  attributes: { email: { encrypted: true }, note: { encrypted: true } },
  actions: {
    read: { type: "read" },
    create: { type: "create", accept: ["name", "email", "note"] },
    update: { type: "update", accept: ["name", "email", "note"] },
  },
  policies: [
    bypass(isSystemActor()),
    policy(actionType("read", "create", "update"), authorizeIf(roleAtLeast("operator"))),
  ],
  events: true,
});

interface RawContact extends Record<string, unknown> {
  id: string;
  name: string;
  email: string | null;
  note: string | null;
}

function suite(target: DatabaseTarget) {
  describe(`encrypted attributes: ${target.name}`, () => {
    let t: TestDatabase;
    let keyring: Keyring;
    let kernel: Kernel;
    let r: AnyResource;
    let tenantA = "";
    let tenantB = "";
    const admin = (tenantId: string): ActionContext => ({
      actor: { kind: "user", id: "u1", tenantId, role: "admin", superUser: false },
    });
    const system: TenantScope = { tenantId: null, bypass: true };
    /** Rows as stored, read across tenants with the system role: what a database dump would show. */
    const raw = (where = sql`true`) =>
      inScope(t.db.orm, system, (tx) =>
        queryRows<RawContact>(tx, sql`select id, name, email, note from crypto_contacts where ${where}`),
      );
    const rawExec = (q: ReturnType<typeof sql>) => inScope(t.db.orm, system, (tx) => tx.execute(q));

    beforeAll(async () => {
      t = await target.open();
      await migrateUp(t.db);
      await t.db.exec(DDL);
      const ids = await t.db.orm
        .insert(tenants)
        .values([
          { slug: "acme", name: "Acme" },
          { slug: "globex", name: "Globex" },
        ])
        .returning({ id: tenants.id });
      tenantA = ids[0]?.id ?? "";
      tenantB = ids[1]?.id ?? "";
    });
    afterAll(async () => t?.dispose());

    it("creates exactly one key when two processes open the keyring at once", async () => {
      // PostgreSQL: two connection pools racing; embedded: two callers on its one connection.
      const other =
        t.url === undefined
          ? t.db
          : await openDatabase({
              url: t.url,
              dataDir: "unused",
              poolMax: 2,
              connectAttempts: 1,
              applicationName: "sonde-test-2",
              logger: silentLogger,
            });
      try {
        const [a, b] = await Promise.all([openKeyring(t.db.orm, SECRET), openKeyring(other.orm, SECRET)]);
        expect([a.activeKeyId, b.activeKeyId]).toEqual(["k1", "k1"]);
      } finally {
        if (other !== t.db) await other.close();
      }
      const keys = await listKeys(t.db.orm);
      expect(keys.map((k) => [k.id, k.active, k.retiredAt])).toEqual([["k1", true, null]]);
      keyring = await openKeyring(t.db.orm, SECRET);
      kernel = new Kernel({ orm: t.db.orm, resources: [contacts], logger: silentLogger, keyring });
      r = kernel.resource("crypto_contact");
    });

    it("refuses another SONDE_SECRET clearly, without printing it", async () => {
      const err = await openKeyring(t.db.orm, WRONG).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: "SONDE_CONFIG_INVALID",
        message: "SONDE_SECRET does not match the keys in the database (key k1 does not unwrap)",
      });
      expect(JSON.stringify(err) + String(err)).not.toContain(WRONG);
    });

    it("lets only the system role read keys, and neither application role write them", async () => {
      const attempt = (scope: TenantScope, q: ReturnType<typeof sql>) =>
        inScope(t.db.orm, scope, (tx) => tx.execute(q)).then(
          () => "allowed",
          (e: unknown) => (/permission denied/.test(String((e as Error).cause)) ? "denied" : String(e)),
        );
      expect(await attempt(system, sql`select id from encryption_keys`)).toBe("allowed");
      expect(await attempt(system, sql`delete from encryption_keys`)).toBe("denied");
      expect(await attempt(system, sql`update encryption_keys set active = false`)).toBe("denied");
      expect(await attempt(system, sql`insert into encryption_keys (id, wrapped) values ('kx', 'x')`)).toBe(
        "denied",
      );
      const tenant = { tenantId: tenantA, bypass: false };
      expect(await attempt(tenant, sql`select id from encryption_keys`)).toBe("denied");
    });

    it("stores ciphertext and returns plaintext on every read path", async () => {
      const created = await kernel.create(r, admin(tenantA), { name: "Alice", email: "alice@example.com" });
      expect(created).toMatchObject({ name: "Alice", email: "alice@example.com", note: null });
      const id = String(created.id);
      const [stored] = await raw(sql`id = ${id}`);
      expect(stored?.email).toMatch(/^enc:v1:k1:/);
      expect(JSON.stringify(stored)).not.toContain("alice");
      expect(stored?.note).toBeNull();

      expect(await kernel.get(r, admin(tenantA), id)).toMatchObject({ email: "alice@example.com" });
      const listed = await kernel.list(r, admin(tenantA));
      expect(listed.records.map((x) => x.email)).toEqual(["alice@example.com"]);
      const byId = await kernel.listWhereIn(r, admin(tenantA), "id", [id]);
      expect(byId.map((x) => x.email)).toEqual(["alice@example.com"]);

      const updated = await kernel.update(r, admin(tenantA), id, {
        email: "alice@corp.example",
        note: "VIP",
      });
      expect(updated).toMatchObject({ email: "alice@corp.example", note: "VIP" });
      const renamed = await kernel.update(r, admin(tenantA), id, { name: "Alice B." });
      expect(renamed).toMatchObject({ name: "Alice B.", email: "alice@corp.example", note: "VIP" });
      const [after] = await raw(sql`id = ${id}`);
      expect(after?.email).not.toBe(stored?.email);
      expect(JSON.stringify(after)).not.toMatch(/alice|VIP/);
    });

    it("refuses to filter or sort on an encrypted attribute", async () => {
      await expect(
        kernel.list(r, admin(tenantA), { filter: { field: "email", op: "eq", value: "alice@corp.example" } }),
      ).rejects.toMatchObject({
        code: "SONDE_BAD_REQUEST",
        message: "email is encrypted: it cannot be filtered or sorted on",
      });
      await expect(
        kernel.list(r, admin(tenantA), { sort: [{ field: "note", direction: "asc" }] }),
      ).rejects.toMatchObject({ code: "SONDE_BAD_REQUEST" });
      await expect(kernel.listWhereIn(r, admin(tenantA), "email", ["x"])).rejects.toMatchObject({
        code: "SONDE_INTERNAL",
      });
      expect(r.filterable.has("email")).toBe(false);
    });

    it("leaves encrypted attributes out of outbox events", async () => {
      const rows = await inScope(t.db.orm, system, (tx) =>
        queryRows<{ subject: string; payload: { record: Record<string, unknown> } }>(
          tx,
          sql`select subject, payload from outbox where subject like 'sonde.acme.crypto_contact.%' order by id`,
        ),
      );
      expect(rows.map((x) => x.subject)).toEqual([
        "sonde.acme.crypto_contact.create",
        "sonde.acme.crypto_contact.update",
        "sonde.acme.crypto_contact.update",
      ]);
      for (const row of rows) {
        expect(row.payload.record).toHaveProperty("name");
        expect(row.payload.record).not.toHaveProperty("email");
        expect(row.payload.record).not.toHaveProperty("note");
      }
      expect(JSON.stringify(rows)).not.toMatch(/alice|VIP|enc:v1/);
    });

    it("refuses a tampered or misplaced value with SONDE_DECRYPTION_FAILED, showing neither", async () => {
      const bob = await kernel.create(r, admin(tenantA), { name: "Bob", email: "bob@example.com" });
      const id = String(bob.id);
      const [stored] = await raw(sql`id = ${id}`);
      const envelope = stored?.email ?? "";
      const i = envelope.length - 20;
      const tampered = envelope.slice(0, i) + (envelope[i] === "A" ? "B" : "A") + envelope.slice(i + 1);
      await rawExec(sql`update crypto_contacts set email = ${tampered} where id = ${id}`);
      const err = await kernel.get(r, admin(tenantA), id).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "SONDE_DECRYPTION_FAILED", httpStatus: 500, retryable: false });
      expect((err as Error).message).toBe(
        `crypto_contact ${id}: email: an encrypted value could not be decrypted: it does not authenticate`,
      );
      // A valid envelope copied into another column is bound to its own column: refused too.
      await rawExec(sql`update crypto_contacts set email = null, note = ${envelope} where id = ${id}`);
      const moved = await kernel.get(r, admin(tenantA), id).catch((e: unknown) => e);
      expect(moved).toMatchObject({ code: "SONDE_DECRYPTION_FAILED" });
      expect(JSON.stringify(moved) + String(moved)).not.toMatch(/bob|enc:v1/);
      await rawExec(sql`delete from crypto_contacts where id = ${id}`);
    });

    it("rotates: a new key, every row re-encrypted to it, values still read back", async () => {
      const expected = new Map<string, { email: string; note: string | null }>();
      for (let i = 0; i < 20; i++) {
        const tenant = i % 2 === 0 ? tenantA : tenantB;
        const values = { email: `user${i}@example.com`, note: i % 3 === 0 ? null : `note ${i}` };
        const c = await kernel.create(r, admin(tenant), { name: `User ${i}`, ...values });
        expected.set(String(c.id), values);
      }
      const before = await raw();
      const valueCount = before.reduce((n, x) => n + (x.email ? 1 : 0) + (x.note ? 1 : 0), 0);

      // Its own keyring, as `sonde keys rotate` in another process; batches smaller than the table.
      const report = await rotateKeys(t.db, SECRET, [contacts], {
        newKey: true,
        batchSize: 7,
        logger: silentLogger,
      });
      expect(report).toMatchObject({ activeKeyId: "k2", retiredKeyId: "k1" });
      expect(report.counts).toEqual([
        { resource: "crypto_contact", rows: before.length, values: valueCount, changed: 0, failed: [] },
      ]);
      const keys = await listKeys(t.db.orm);
      expect(keys.map((k) => [k.id, k.active, k.retiredAt === null])).toEqual([
        ["k1", false, false],
        ["k2", true, true],
      ]);
      for (const row of await raw()) {
        for (const v of [row.email, row.note]) if (v !== null) expect(v).toMatch(/^enc:v1:k2:/);
      }
      // The kernel's keyring knew only k1: it reloads when it meets k2. First inside a write's
      // transaction (rolled back, reloaded outside it, run again), then on reads.
      const [first = ""] = expected.keys();
      const touched = await kernel.update(r, admin(tenantA), first, { name: "Renamed" });
      expect(touched.email).toBe(expected.get(first)?.email);
      expect(keyring.activeKeyId).toBe("k2");
      for (const tenant of [tenantA, tenantB]) {
        for (const rec of (await kernel.list(r, admin(tenant), { page: { size: 100 } })).records) {
          const want = expected.get(String(rec.id));
          if (want !== undefined) expect({ email: rec.email, note: rec.note }).toEqual(want);
        }
      }
    });

    it("is restartable: values left under a retired key still read, and a second run moves them", async () => {
      // A rotation that stopped after creating its key: every value is still under k2.
      const other = await openKeyring(t.db.orm, SECRET);
      expect(await other.rotate()).toBe("k3");
      const sample = (await kernel.list(r, admin(tenantB))).records[0];
      expect(sample?.email).toMatch(/@example\.com$/);

      const resumed = await rotateKeys(t.db, SECRET, [contacts], {
        newKey: false,
        batchSize: 5,
        logger: silentLogger,
      });
      expect(resumed.activeKeyId).toBe("k3");
      expect(resumed.retiredKeyId).toBeUndefined();
      expect(resumed.counts[0]?.rows).toBe((await raw()).length);
      for (const row of await raw()) {
        for (const v of [row.email, row.note]) if (v !== null) expect(v).toMatch(/^enc:v1:k3:/);
      }
      expect((await kernel.list(r, admin(tenantA))).records.every((x) => typeof x.email === "string")).toBe(
        true,
      );
      expect(keyring.activeKeyId).toBe("k3");
      const again = await rotateKeys(t.db, SECRET, [contacts], {
        newKey: false,
        batchSize: 5,
        logger: silentLogger,
      });
      expect(again.counts[0]).toMatchObject({ rows: 0, values: 0, changed: 0, failed: [] });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
