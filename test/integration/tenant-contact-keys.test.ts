/**
 * A tenant's contact name and email are encrypted attributes: stored as `enc:v1:<key id>:…`, read back
 * in the clear through the kernel, and moved to a new key by `sonde keys rotate` (rotateKeys) like
 * every other encrypted attribute of core's resources.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rotateKeys } from "../../src/cli/keys.js";
import { systemActor } from "../../src/kernel/actor.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { tenants } from "../../src/kernel/kernel.schema.js";
import { envelopeKeyId, openKeyring } from "../../src/platform/crypto/index.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import { coreResources } from "../../src/roles/resources.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { serviceGate } from "../support/services.js";

const SECRET = "c".repeat(40);

function suite(target: DatabaseTarget) {
  describe(`tenant contact encryption: ${target.name}`, () => {
    let t: TestDatabase;
    let kernel: Kernel;
    beforeAll(async () => {
      t = await target.open();
      await migrateUp(t.db);
      const keyring = await openKeyring(t.db.orm, SECRET);
      kernel = new Kernel({ orm: t.db.orm, resources: coreResources, logger: silentLogger, keyring });
    });
    afterAll(async () => t?.dispose());

    it("stores the contact encrypted, reads it in the clear, and re-encrypts it on rotation", async () => {
      const ctx = { actor: systemActor("test") };
      const created = await kernel.create(kernel.resource("tenant"), ctx, {
        slug: "initech",
        name: "Initech",
        contact_name: "Bill Lumbergh",
        contact_email: "bill@initech.example",
      });
      expect(created).toMatchObject({ contact_name: "Bill Lumbergh", contact_email: "bill@initech.example" });
      const raw = async () => (await t.db.orm.select().from(tenants).where(eq(tenants.slug, "initech")))[0];
      const before = await raw();
      expect(before?.contact_email).toMatch(/^enc:v1:/);
      expect(JSON.stringify(before)).not.toContain("initech.example");
      const oldKey = envelopeKeyId(String(before?.contact_email));

      const report = await rotateKeys(t.db, SECRET, coreResources, {
        newKey: true,
        batchSize: 10,
        logger: silentLogger,
      });
      expect(report.retiredKeyId).toBe(oldKey);
      expect(report.counts.find((c) => c.resource === "tenant")).toMatchObject({ values: 2, rows: 1 });
      const after = await raw();
      expect(envelopeKeyId(String(after?.contact_email))).toBe(report.activeKeyId);
      expect(envelopeKeyId(String(after?.contact_name))).toBe(report.activeKeyId);

      // A kernel with a fresh keyring (another process) reads the rotated value.
      const fresh = new Kernel({
        orm: t.db.orm,
        resources: coreResources,
        logger: silentLogger,
        keyring: await openKeyring(t.db.orm, SECRET),
      });
      const read = await fresh.get(fresh.resource("tenant"), ctx, String(created.id));
      expect(read).toMatchObject({ contact_email: "bill@initech.example", contact_name: "Bill Lumbergh" });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
