import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionContext } from "../../src/kernel/pipeline/authorize.js";
import { auditEvents } from "../../src/kernel/kernel.schema.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  type TestDatabase,
} from "../support/databases.js";
import { type Fixture, setupKernel } from "../support/kernel-fixtures.js";
import { serviceGate } from "../support/services.js";

type Outcome = "ok" | "forbidden" | "not_found";

async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return "ok";
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "SONDE_FORBIDDEN") return "forbidden";
    if (code === "SONDE_NOT_FOUND") return "not_found";
    throw err;
  }
}

function suite(target: DatabaseTarget) {
  describe(`kernel policies: ${target.name}`, () => {
    let t: TestDatabase;
    let f: Fixture;
    let seq = 0;
    const notes = () => f.kernel.resource("notes");
    beforeAll(async () => {
      t = await target.open();
      f = await setupKernel(t.db);
    });
    afterAll(async () => t?.dispose());

    async function seed(extra: Record<string, unknown> = {}): Promise<string> {
      const admin = { actor: f.actor(f.tenantA, "admin") };
      const n = await f.kernel.create(notes(), admin, { title: `n${++seq}`, owner_id: "someone", ...extra });
      return String(n.id);
    }

    // The matrix: role × action → outcome, on a public, unlocked draft note of the actor's tenant.
    const matrix: Record<string, Record<"viewer" | "operator" | "admin", Outcome>> = {
      read: { viewer: "ok", operator: "ok", admin: "ok" },
      create_own: { viewer: "forbidden", operator: "ok", admin: "ok" },
      create_for_other: { viewer: "forbidden", operator: "forbidden", admin: "ok" },
      update: { viewer: "forbidden", operator: "ok", admin: "ok" },
      publish: { viewer: "forbidden", operator: "ok", admin: "ok" },
      archive: { viewer: "forbidden", operator: "forbidden", admin: "ok" },
      destroy: { viewer: "forbidden", operator: "forbidden", admin: "ok" },
    };
    for (const [action, byRole] of Object.entries(matrix)) {
      for (const role of ["viewer", "operator", "admin"] as const) {
        it(`${role} ${action} → ${byRole[role]}`, async () => {
          const actor = f.actor(f.tenantA, role);
          const ctx: ActionContext = { actor };
          const id = await seed();
          const run = (): Promise<unknown> => {
            switch (action) {
              case "read":
                return f.kernel.get(notes(), ctx, id);
              case "create_own":
                return f.kernel.create(notes(), ctx, { title: `own${++seq}`, owner_id: actor.id });
              case "create_for_other":
                return f.kernel.create(notes(), ctx, { title: `other${++seq}`, owner_id: "not-me" });
              case "update":
                return f.kernel.update(notes(), ctx, id, { priority: 2 });
              case "publish":
                return f.kernel.update(notes(), ctx, id, {}, { action: "publish" });
              case "archive":
                return f.kernel.update(notes(), ctx, id, {}, { action: "archive" });
              default:
                return f.kernel.destroy(notes(), ctx, id);
            }
          };
          expect(await outcome(run())).toBe(byRole[role]);
        });
      }
    }

    it("runs a bulk action only where its policy allows every row, in the actor's tenant", async () => {
      const bulk = (actor: ReturnType<Fixture["actor"]>) =>
        f.kernel.bulk(notes(), "import", { actor }, async ({ tx, tenantId }) => {
          const rows = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from notes`);
          return {
            result: { tenantId, visible: rows[0]?.n ?? -1 },
            events: [{ event: "imported", payload: {} }],
          };
        });
      await seed();
      await f.kernel.create(
        notes(),
        { actor: f.actor(f.tenantB, "admin") },
        { title: `b${++seq}`, owner_id: "x" },
      );
      const done = await bulk(f.actor(f.tenantA, "admin"));
      expect(done.tenantId).toBe(f.tenantA);
      // The transaction is the tenant's: row-level security shows it tenant A's notes only.
      const [own] = await inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
        queryRows<{ n: number }>(tx, sql`select count(*)::int as n from notes`),
      );
      const [all] = await inScope(t.db.orm, { tenantId: null, bypass: true }, (tx) =>
        queryRows<{ n: number }>(tx, sql`select count(*)::int as n from notes`),
      );
      expect(done.visible).toBe(own?.n);
      expect(all?.n).toBeGreaterThan(done.visible);
      // The operator's create policy is a row filter (own notes only): set-based work cannot honour it.
      await expect(bulk(f.actor(f.tenantA, "operator"))).rejects.toMatchObject({
        code: "SONDE_FORBIDDEN",
        meta: { reason: "row filter" },
      });
      await expect(bulk(f.actor(f.tenantA, "viewer"))).rejects.toMatchObject({ code: "SONDE_FORBIDDEN" });
      await expect(bulk(f.actor(f.tenantA, "admin", { scopes: ["read"] }))).rejects.toMatchObject({
        code: "SONDE_FORBIDDEN",
      });
      // A bulk action is not a create that records can go through.
      await expect(
        f.kernel.create(
          notes(),
          { actor: f.actor(f.tenantA, "admin") },
          { title: "x" },
          { action: "import" },
        ),
      ).rejects.toMatchObject({ code: "SONDE_BAD_REQUEST" });
    });

    it("filters reads by a filter check: viewers never see private notes, in lists or by id", async () => {
      const priv = await seed({ visibility: "private", title: "private-one" });
      const viewer = { actor: f.actor(f.tenantA, "viewer") };
      expect(await outcome(f.kernel.get(notes(), viewer, priv))).toBe("not_found");
      const listed = await f.kernel.list(notes(), viewer, { page: { size: 1000 } });
      expect(listed.records.every((r) => r.visibility === "public")).toBe(true);
      expect(listed.records.some((r) => r.id === priv)).toBe(false);
      const operator = { actor: f.actor(f.tenantA, "operator") };
      expect(await outcome(f.kernel.get(notes(), operator, priv))).toBe("ok");
    });

    it("forbids a write the row's filter check refuses (locked notes), and audits it", async () => {
      const locked = await seed({ locked: true });
      const operator = f.actor(f.tenantA, "operator");
      expect(await outcome(f.kernel.update(notes(), { actor: operator }, locked, { priority: 1 }))).toBe(
        "forbidden",
      );
      const rows = await inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
        tx.select().from(auditEvents).where(eq(auditEvents.actor_id, operator.id)),
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        kind: "forbidden",
        resource: "note",
        action: "update",
        record_id: locked,
      });
    });

    it("limits API tokens by scope before any policy", async () => {
      const id = await seed();
      const readToken = { actor: f.actor(f.tenantA, "admin", { scopes: ["read"] }) };
      expect(await outcome(f.kernel.get(notes(), readToken, id))).toBe("ok");
      expect(await outcome(f.kernel.update(notes(), readToken, id, { priority: 1 }))).toBe("forbidden");
      const writeToken = { actor: f.actor(f.tenantA, "admin", { scopes: ["write"] }) };
      expect(await outcome(f.kernel.update(notes(), writeToken, id, { priority: 1 }))).toBe("ok");
    });

    it("lets a super user bypass policies inside the tenant, and read across tenants only explicitly, audited", async () => {
      const id = await seed({ locked: true });
      const su = f.actor(f.tenantA, "viewer", { superUser: true });
      expect(await outcome(f.kernel.update(notes(), { actor: su }, id, { priority: 1 }))).toBe("ok");
      await f.kernel.create(
        notes(),
        { actor: f.actor(f.tenantB, "admin") },
        { title: "in-b", owner_id: "o" },
      );
      const scoped = await f.kernel.list(notes(), { actor: su }, { page: { size: 1000 } });
      expect(scoped.records.some((r) => r.title === "in-b")).toBe(false);
      const across = await f.kernel.list(notes(), { actor: su, crossTenant: true }, { page: { size: 1000 } });
      expect(across.records.some((r) => r.title === "in-b")).toBe(true);
      const plain = f.actor(f.tenantA, "admin");
      expect(await outcome(f.kernel.list(notes(), { actor: plain, crossTenant: true }))).toBe("forbidden");
      expect(
        await outcome(f.kernel.update(notes(), { actor: su, crossTenant: true }, id, { priority: 2 })),
      ).toBe("forbidden");
      const audits = await inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
        tx.select().from(auditEvents).where(eq(auditEvents.actor_id, su.id)),
      );
      expect(
        audits.some(
          (a) => a.kind === "bypass" && (a.detail as { crossTenant?: boolean }).crossTenant === true,
        ),
      ).toBe(true);
    });

    it("refuses a user acting in another tenant than their own", async () => {
      const id = await seed();
      const b = f.actor(f.tenantB, "admin");
      expect(await outcome(f.kernel.get(notes(), { actor: b, tenantId: f.tenantA }, id))).toBe("forbidden");
      expect(await outcome(f.kernel.get(notes(), { actor: b }, id))).toBe("not_found");
    });

    it("exposes the audit log as a resource only admins of the tenant can read", async () => {
      const audit = f.kernel.resource("audit-events");
      const adminA = { actor: f.actor(f.tenantA, "admin") };
      const events = await f.kernel.list(audit, adminA, { page: { size: 1000 } });
      expect(events.records.some((e) => e.kind === "forbidden")).toBe(true);
      const one = String(events.records[0]?.id);
      expect((await f.kernel.get(audit, adminA, one)).id).toBe(events.records[0]?.id);
      expect(await outcome(f.kernel.list(audit, { actor: f.actor(f.tenantA, "operator") }))).toBe(
        "forbidden",
      );
      const adminB = { actor: f.actor(f.tenantB, "admin") };
      const inB = await f.kernel.list(audit, adminB, { page: { size: 1000 } });
      expect(inB.records.some((e) => e.id === events.records[0]?.id)).toBe(false);
      expect(await outcome(f.kernel.get(audit, adminB, one))).toBe("not_found");
    });

    it("runs system work only as the explicit system actor, audited", async () => {
      const id = await seed();
      await f.kernel.update(notes(), { actor: f.system, tenantId: f.tenantA }, id, { priority: 4 });
      const rows = await inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
        tx.select().from(auditEvents).where(eq(auditEvents.record_id, id)),
      );
      expect(rows.some((r) => r.kind === "system_write" && r.actor_kind === "system")).toBe(true);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
