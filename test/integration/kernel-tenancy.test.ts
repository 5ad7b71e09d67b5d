import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  type TestDatabase,
} from "../support/databases.js";
import { type Fixture, setupKernel } from "../support/kernel-fixtures.js";
import { serviceGate } from "../support/services.js";

/** drizzle wraps the database error ("Failed query: …"); the PostgreSQL message is its cause. */
const causedBy = (pattern: RegExp) => (err: unknown) =>
  err instanceof Error && err.cause instanceof Error && pattern.test(err.cause.message);

/**
 * The database's own lock: row-level security holds even when a query is written wrongly. These tests
 * bypass the kernel on purpose and talk SQL inside a tenant's transaction.
 */
function suite(target: DatabaseTarget) {
  describe(`tenant isolation in the database: ${target.name}`, () => {
    let t: TestDatabase;
    let f: Fixture;
    beforeAll(async () => {
      t = await target.open();
      f = await setupKernel(t.db);
      const notes = f.kernel.resource("notes");
      for (const [tenant, titles] of [
        [f.tenantA, ["a1", "a2", "a3"]],
        [f.tenantB, ["b1", "b2"]],
      ] as const) {
        for (const title of titles) {
          await f.kernel.create(notes, { actor: f.actor(tenant, "admin") }, { title, owner_id: "o" });
        }
      }
    });
    afterAll(async () => t?.dispose());

    it("an unfiltered raw SELECT inside one tenant's transaction returns only that tenant's rows", async () => {
      const rows = await inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
        queryRows<{ title: string }>(tx, sql`select title from notes order by title`),
      );
      expect(rows.map((r) => r.title)).toEqual(["a1", "a2", "a3"]);
    });

    it("runs as a role that is neither superuser nor table owner", async () => {
      const rows = await inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
        queryRows(
          tx,
          sql`select current_user as who, (select rolsuper from pg_roles where rolname = current_user) as super, (select tableowner from pg_tables where tablename = 'notes') as owner`,
        ),
      );
      expect(rows[0]).toMatchObject({ who: "sonde_app", super: false });
      expect(rows[0]?.owner).not.toBe("sonde_app");
    });

    it("rejects a cross-tenant INSERT and UPDATE in the database", async () => {
      await expect(
        inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
          tx.execute(
            sql`insert into notes (tenant_id, title, owner_id) values (${f.tenantB}, 'smuggled', 'o')`,
          ),
        ),
      ).rejects.toSatisfy(causedBy(/row-level security/));
      const moved = await inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
        tx.execute(sql`update notes set tenant_id = ${f.tenantB} where title = 'a1'`),
      ).catch((err: Error) => err);
      expect(causedBy(/row-level security/)(moved)).toBe(true);
    });

    it("sees nothing without a tenant, and everything only through the explicit bypass", async () => {
      const none = await inScope(t.db.orm, { tenantId: null, bypass: false }, (tx) =>
        queryRows(tx, sql`select count(*)::int as n from notes`),
      );
      expect(none[0]?.n).toBe(0);
      const all = await inScope(t.db.orm, { tenantId: null, bypass: true }, (tx) =>
        queryRows(tx, sql`select count(*)::int as n from notes`),
      );
      expect(all[0]?.n).toBe(5);
    });

    it("does not leak the tenant setting to the next transaction on the connection", async () => {
      await inScope(t.db.orm, { tenantId: f.tenantA, bypass: true }, async () => {});
      const after = await t.db.orm.transaction((tx) =>
        queryRows(tx, sql`select current_setting('app.tenant_id', true) as tenant, current_user as who`),
      );
      expect(after[0]?.tenant ?? "").toBe("");
      expect(["sonde_app", "sonde_system"]).not.toContain(after[0]?.who);
    });

    it("cannot rewrite the migration ledger as the application role", async () => {
      await expect(
        inScope(t.db.orm, { tenantId: f.tenantA, bypass: true }, (tx) =>
          tx.execute(sql`delete from sonde_migrations`),
        ),
      ).rejects.toSatisfy(causedBy(/permission denied/));
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
