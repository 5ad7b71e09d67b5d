/**
 * `Kernel.revealSensitive`: the one way to read a sensitive, encrypted attribute back in the clear.
 * Only the system actor, in one tenant, under the read policy and row-level security, and audited;
 * users (admins and super users included) are refused and the refusal is audited too. Also: a write
 * guard naming a calculation is checked in SQL (triggers pass their `where` as the guard).
 */
import { and, eq, sql } from "drizzle-orm";
import { pgTable, text, uuid } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor, type UserActor } from "../../src/kernel/actor.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { auditEvents, tenants } from "../../src/kernel/kernel.schema.js";
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
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { openKeyring } from "../../src/platform/crypto/index.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { serviceGate } from "../support/services.js";

const vaultTable = pgTable("reveal_vault", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenant_id: uuid("tenant_id").notNull(),
  name: text("name").notNull(),
  api_key: text("api_key"),
  pin_hash: text("pin_hash"),
  note: text("note"),
});
const DDL = `
create table reveal_vault (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants(id) on delete cascade,
  name text not null,
  api_key text,
  pin_hash text,
  note text
);
${tenantRlsSql("reveal_vault")}
`;
const vault = defineResource({
  name: "reveal_vault",
  table: vaultTable,
  tenancy: "tenant",
  attributes: {
    api_key: { sensitive: true, encrypted: true },
    pin_hash: { sensitive: true },
    note: { encrypted: true },
  },
  calculations: { shout: { type: "string", sql: (t) => sql`upper(${t.name})` } },
  actions: {
    read: { type: "read" },
    create: { type: "create", accept: ["name", "api_key", "pin_hash", "note"] },
    update: { type: "update", accept: ["name"] },
  },
  policies: [
    bypass(isSystemActor()),
    policy(actionType("read", "create", "update"), authorizeIf(roleAtLeast("admin"))),
  ],
});

function suite(target: DatabaseTarget) {
  describe(`revealing sensitive attributes: ${target.name}`, () => {
    let t: TestDatabase;
    let kernel: Kernel;
    let r: AnyResource;
    let tenantA = "";
    let tenantB = "";
    let id = "";
    const system = (tenantId: string | null) => ({ actor: systemActor("test:reveal"), tenantId });
    const admin = (tenantId: string, superUser = false): { actor: UserActor } => ({
      actor: { kind: "user", id: "u-admin", tenantId, role: "admin", superUser },
    });
    const audits = (kind: string) =>
      inScope(t.db.orm, { tenantId: null, bypass: true }, (tx) =>
        tx
          .select()
          .from(auditEvents)
          .where(and(eq(auditEvents.kind, kind), eq(auditEvents.resource, "reveal_vault"))),
      );

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
      const keyring = await openKeyring(t.db.orm, "a-test-secret-of-more-than-32-characters");
      kernel = new Kernel({ orm: t.db.orm, resources: [vault], logger: silentLogger, keyring });
      r = kernel.resource("reveal_vault");
      const created = await kernel.create(r, admin(tenantA), {
        name: "armis",
        api_key: "key-0f9e8d7c",
        pin_hash: "hash-1234",
        note: "plain note",
      });
      id = String(created.id);
    });
    afterAll(async () => t?.dispose());

    it("never returns the attribute, and stores it encrypted", async () => {
      const read = await kernel.get(r, admin(tenantA), id);
      expect(read).not.toHaveProperty("api_key");
      expect(read).toMatchObject({ name: "armis", note: "plain note" });
      const stored = await inScope(t.db.orm, { tenantId: null, bypass: true }, (tx) =>
        queryRows<{ api_key: string }>(tx, sql`select api_key from reveal_vault where id = ${id}`),
      );
      expect(stored[0]?.api_key).toMatch(/^enc:v1:/);
    });

    it("hands the system actor the plaintext, and audits the reveal without the value", async () => {
      expect(await kernel.revealSensitive(r, system(tenantA), id, "api_key")).toBe("key-0f9e8d7c");
      const rows = await audits("reveal");
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        tenant_id: tenantA,
        actor_kind: "system",
        actor_id: "system:test:reveal",
        action: "reveal",
        record_id: id,
        detail: { attribute: "api_key", reason: "test:reveal" },
      });
      expect(JSON.stringify(rows)).not.toContain("key-0f9e8d7c");
    });

    it("refuses users, admins and super users alike, and audits the refusal", async () => {
      const before = (await audits("forbidden")).length;
      for (const ctx of [admin(tenantA), admin(tenantA, true)]) {
        await expect(kernel.revealSensitive(r, ctx, id, "api_key")).rejects.toMatchObject({
          code: "SONDE_FORBIDDEN",
        });
      }
      expect((await audits("forbidden")).length).toBe(before + 2);
    });

    it("reveals only sensitive, encrypted attributes, in a named tenant", async () => {
      for (const attribute of ["pin_hash", "note", "name", "missing"]) {
        await expect(kernel.revealSensitive(r, system(tenantA), id, attribute)).rejects.toMatchObject({
          code: "SONDE_INTERNAL",
        });
      }
      await expect(kernel.revealSensitive(r, system(null), id, "api_key")).rejects.toMatchObject({
        code: "SONDE_BAD_REQUEST",
      });
    });

    it("does not reach another tenant's row", async () => {
      await expect(kernel.revealSensitive(r, system(tenantB), id, "api_key")).rejects.toMatchObject({
        code: "SONDE_NOT_FOUND",
      });
      await expect(kernel.revealSensitive(r, system(tenantA), "not-a-uuid", "api_key")).rejects.toMatchObject(
        {
          code: "SONDE_NOT_FOUND",
        },
      );
    });

    it("checks a write guard naming a calculation in SQL", async () => {
      const updated = await kernel.update(
        r,
        system(tenantA),
        id,
        { name: "armis-2" },
        {
          guard: { field: "shout", op: "eq", value: "ARMIS" },
        },
      );
      expect(updated.name).toBe("armis-2");
      await expect(
        kernel.update(
          r,
          system(tenantA),
          id,
          { name: "armis-3" },
          { guard: { field: "shout", op: "eq", value: "ARMIS" } },
        ),
      ).rejects.toMatchObject({ code: "SONDE_GUARD_FAILED" });
      expect((await kernel.get(r, admin(tenantA), id)).name).toBe("armis-2");
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
