/**
 * The OpenAPI document of the resources core actually serves (identity today, every domain later):
 * valid OpenAPI 3.1, and every identity route in it. The document depends on the declarations only,
 * so the embedded database is enough to build the kernel it is generated from.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildOpenApi } from "../../src/api/openapi/document.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { openKeyring } from "../../src/platform/crypto/index.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import { coreResources } from "../../src/roles/resources.js";
import { embeddedTarget, silentLogger, type TestDatabase } from "../support/databases.js";

describe("OpenAPI document of core's resources", () => {
  let t: TestDatabase;
  let kernel: Kernel;
  beforeAll(async () => {
    t = await embeddedTarget.open();
    await migrateUp(t.db);
    const keyring = await openKeyring(t.db.orm, "k".repeat(40));
    kernel = new Kernel({ orm: t.db.orm, resources: coreResources, logger: silentLogger, keyring });
  });
  afterAll(async () => t?.dispose());

  it("is valid OpenAPI 3.1 and lists the identity routes", async () => {
    const doc = buildOpenApi(kernel, "http://localhost:8080/api/v2");
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(JSON.stringify(doc)) as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const paths = Object.keys((doc as unknown as { paths: Record<string, unknown> }).paths);
    for (const p of [
      "/tenants",
      "/tenants/{id}/suspend",
      "/tenants/{id}/resume",
      "/users",
      "/users/{id}",
      "/memberships/{id}",
      "/invitations",
      "/invitations/{id}/resend",
      "/invitations/{id}/revoke",
      "/api-tokens",
      "/api-tokens/{id}/revoke",
    ]) {
      expect(paths).toContain(p);
    }
    // Sensitive attributes are never part of the documented resources.
    expect(JSON.stringify(doc)).not.toContain("token_hash");
  });
});
