import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  type TestDatabase,
} from "../support/databases.js";
import { type Fixture, setupKernel } from "../support/kernel-fixtures.js";
import { serviceGate } from "../support/services.js";

function suite(target: DatabaseTarget) {
  describe(`kernel smoke: ${target.name}`, () => {
    let t: TestDatabase;
    let f: Fixture;
    beforeAll(async () => {
      t = await target.open();
      f = await setupKernel(t.db);
    });
    afterAll(async () => t?.dispose());

    it("creates, reads, lists, updates, transitions and destroys", async () => {
      const notes = f.kernel.resource("notes");
      const admin = { actor: f.actor(f.tenantA, "admin") };
      const created = await f.kernel.create(notes, admin, {
        title: "hello",
        owner_id: "x",
        secret: "s3cret",
      });
      expect(created).toMatchObject({ title: "hello", state: "draft", display_name: "hello" });
      expect(created).not.toHaveProperty("secret");
      expect(created).not.toHaveProperty("tenant_id");
      const id = String(created.id);
      expect(await f.kernel.get(notes, admin, id, { aggregates: ["comment_count"] })).toMatchObject({
        comment_count: 0,
      });
      const list = await f.kernel.list(notes, admin, {});
      expect(list.records.map((r) => r.id)).toEqual([id]);
      const updated = await f.kernel.update(notes, admin, id, { priority: 3 });
      expect(updated.priority).toBe(3);
      const published = await f.kernel.update(
        notes,
        admin,
        id,
        {},
        { action: "publish", arguments: { note: "go" } },
      );
      expect(published).toMatchObject({ state: "published", body: "go" });
      await expect(f.kernel.update(notes, admin, id, {}, { action: "publish" })).rejects.toMatchObject({
        code: "SONDE_INVALID_TRANSITION",
      });
      const history = await f.kernel.history(notes, admin, id);
      expect(history.map((h) => [h.from, h.to])).toEqual([["draft", "published"]]);
      await f.kernel.destroy(notes, admin, id);
      await expect(f.kernel.get(notes, admin, id)).rejects.toMatchObject({ code: "SONDE_NOT_FOUND" });
    });

    it("keeps tenants apart", async () => {
      const notes = f.kernel.resource("notes");
      const a = { actor: f.actor(f.tenantA, "admin") };
      const b = { actor: f.actor(f.tenantB, "admin") };
      const note = await f.kernel.create(notes, a, { title: "only-a", owner_id: "x" });
      await expect(f.kernel.get(notes, b, String(note.id))).rejects.toMatchObject({
        code: "SONDE_NOT_FOUND",
      });
      expect((await f.kernel.list(notes, b)).records.map((r) => r.title)).not.toContain("only-a");
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
