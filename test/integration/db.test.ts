import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSondeError } from "../../src/lib/errors.js";
import { classifyDbError, migrateDown, migrateUp, migrationStatus } from "../../src/platform/db/index.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  type TestDatabase,
} from "../support/databases.js";
import { serviceGate } from "../support/services.js";

/** One suite, run against every database adapter. */
function databaseSuite(target: DatabaseTarget): void {
  describe(`database adapter: ${target.name}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      t = await target.open();
    });
    afterAll(async () => {
      await t?.dispose();
    });

    it("answers ping and parameterised queries", async () => {
      await t.db.ping();
      const res = await t.db.query<{ n: number; s: string }>("select $1::int + 1 as n, $2::text as s", [
        41,
        "x",
      ]);
      expect(res.rows).toEqual([{ n: 42, s: "x" }]);
    });

    it("runs several statements with exec", async () => {
      await t.db.exec("create table exec_probe (v int); insert into exec_probe values (1), (2);");
      const res = await t.db.query<{ c: number }>("select count(*)::int as c from exec_probe");
      expect(res.rows[0]?.c).toBe(2);
    });

    it("commits a transaction and rolls back a failed one", async () => {
      await t.db.exec("create table tx_probe (v int primary key)");
      await t.db.transaction(async (tx) => {
        await tx.query("insert into tx_probe values (1)");
      });
      await expect(
        t.db.transaction(async (tx) => {
          await tx.query("insert into tx_probe values (2)");
          throw new Error("abort");
        }),
      ).rejects.toThrow("abort");
      const res = await t.db.query<{ v: number }>("select v from tx_probe order by v");
      expect(res.rows.map((r) => r.v)).toEqual([1]);
    });

    it("keeps concurrent transactions apart", async () => {
      await t.db.exec("create table iso_probe (who text)");
      const run = (who: string) =>
        t.db.transaction(async (tx) => {
          await tx.query("insert into iso_probe values ($1)", [who]);
          const seen = await tx.query<{ who: string }>("select who from iso_probe order by who");
          if (who === "b") throw new Error("roll back b");
          return seen.rows.map((r) => r.who);
        });
      const [a, b] = await Promise.allSettled([run("a"), run("b")]);
      expect(a.status).toBe("fulfilled");
      expect(b.status).toBe("rejected");
      const res = await t.db.query<{ who: string }>("select who from iso_probe");
      expect(res.rows).toEqual([{ who: "a" }]);
    });

    it("applies migrations once, reports status, reverts and re-applies them", async () => {
      const first = await migrateUp(t.db);
      expect(first).toContain("0000_core_instances");
      expect(await migrateUp(t.db)).toEqual([]);
      const status = await migrationStatus(t.db);
      expect(status.every((s) => s.applied)).toBe(true);

      await t.db.query("insert into core_instances (id, node, version, roles) values ($1, $2, $3, $4)", [
        "i1",
        "n1",
        "0.0.0",
        ["core"],
      ]);
      const reverted = await migrateDown(t.db, { steps: 1 });
      expect(reverted).toHaveLength(1);
      const after = await migrationStatus(t.db);
      expect(after.filter((s) => !s.applied)).toHaveLength(1);
      expect(await migrateUp(t.db)).toEqual(reverted);
    });

    it("applies migrations once when two runners race", async () => {
      const other = await target.open();
      try {
        const [a, b] = await Promise.all([migrateUp(other.db), migrateUp(other.db)]);
        expect([...a, ...b].filter((tag) => tag === "0000_core_instances")).toHaveLength(1);
      } finally {
        await other.dispose();
      }
    });

    it("classifies unique and foreign-key violations into catalogue errors naming the field", async () => {
      await t.db.exec(
        "create table cls_parent (id int primary key, email text unique); create table cls_child (parent_id int references cls_parent(id))",
      );
      await t.db.query("insert into cls_parent values (1, 'a@example.com')");
      const unique = await t.db
        .query("insert into cls_parent values (2, 'a@example.com')")
        .catch(classifyDbError);
      expect(isSondeError(unique, "SONDE_DB_UNIQUE_VIOLATION")).toBe(true);
      expect(isSondeError(unique) && unique.httpStatus).toBe(409);
      expect(isSondeError(unique) && unique.meta?.field).toBe("email");
      expect(isSondeError(unique) && unique.message).not.toContain("a@example.com");

      const fk = await t.db.query("insert into cls_child values (99)").catch(classifyDbError);
      expect(isSondeError(fk, "SONDE_DB_FOREIGN_KEY_VIOLATION")).toBe(true);
      expect(isSondeError(fk) && fk.httpStatus).toBe(422);
    });
  });
}

databaseSuite(embeddedTarget);
if (serviceGate("postgres").run) databaseSuite(postgresTarget);
