/**
 * Plan limits (ResourceSpec.quota) as the kernel enforces them for any resource: here the fixture
 * notes bounded by `max_devices`, the limit the inventory's devices will carry. Past the limit a
 * create is refused with nothing written; an upsert that only updates is not counted; concurrent
 * creates cannot slip past the limit together; another tenant's rows and limit are its own.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kernel } from "../../src/kernel/kernel.js";
import { tenants } from "../../src/kernel/kernel.schema.js";
import { isSondeError } from "../../src/lib/errors.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { comments, type Fixture, notes, setupKernel } from "../support/kernel-fixtures.js";
import { serviceGate } from "../support/services.js";

function suite(target: DatabaseTarget) {
  describe(`kernel plan limits: ${target.name}`, () => {
    let t: TestDatabase;
    let f: Fixture;
    let kernel: Kernel;
    beforeAll(async () => {
      t = await target.open();
      f = await setupKernel(t.db);
      kernel = new Kernel({
        orm: t.db.orm,
        resources: [{ ...notes, quota: { limit: "max_devices" } }, comments],
        logger: silentLogger,
      });
    });
    afterAll(async () => t?.dispose());

    const setLimit = (tenantId: string, max: number | null) =>
      t.db.orm.update(tenants).set({ max_devices: max }).where(eq(tenants.id, tenantId));
    const count = async (tenantId: string) =>
      (
        await kernel.list(
          kernel.resource("notes"),
          { actor: f.actor(tenantId, "admin") },
          { page: { size: 100 } },
        )
      ).records.length;

    it("refuses the create past the limit, naming it, and writes nothing", async () => {
      await setLimit(f.tenantA, 2);
      const ctx = { actor: f.actor(f.tenantA, "admin") };
      const notesR = kernel.resource("notes");
      await kernel.create(notesR, ctx, { title: "one", owner_id: "o" });
      await kernel.create(notesR, ctx, { title: "two", owner_id: "o" });
      const refused = await kernel
        .create(notesR, ctx, { title: "three", owner_id: "o" })
        .catch((e: unknown) => e);
      expect(isSondeError(refused, "SONDE_TENANT_LIMIT_REACHED")).toBe(true);
      expect(String((refused as Error).message)).toBe(
        "tenant acme may have at most 2 notes (max_devices) and has 2",
      );
      expect(await count(f.tenantA)).toBe(2);

      // At the limit, an upsert that updates an existing row is no new row: allowed.
      const upserted = await kernel.create(
        notesR,
        ctx,
        { title: "two", owner_id: "o", body: "updated" },
        { action: "upsert" },
      );
      expect(upserted.body).toBe("updated");
      expect(await count(f.tenantA)).toBe(2);

      // Another tenant has its own rows and no limit; raising the limit lets the create through.
      await kernel.create(notesR, { actor: f.actor(f.tenantB, "admin") }, { title: "three", owner_id: "o" });
      await setLimit(f.tenantA, 3);
      await kernel.create(notesR, ctx, { title: "three", owner_id: "o" });
      expect(await count(f.tenantA)).toBe(3);
    });

    it("lets concurrent creates take the free places only", async () => {
      await setLimit(f.tenantB, 4);
      const ctx = { actor: f.actor(f.tenantB, "admin") };
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) =>
          kernel.create(kernel.resource("notes"), ctx, { title: `race ${i}`, owner_id: "o" }),
        ),
      );
      // Tenant B had one note already: three places were free.
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
      const refused = results.filter((r) => r.status === "rejected");
      expect(refused.every((r) => isSondeError(r.reason, "SONDE_TENANT_LIMIT_REACHED"))).toBe(true);
      expect(await count(f.tenantB)).toBe(4);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
