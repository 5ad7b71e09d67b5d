import { describe, expect, it } from "vitest";
import {
  corePermissions,
  renderAuthorization,
  tenantInboxPrefix,
  tenantPermissions,
} from "../../src/platform/fabric/nats-auth/index.js";

/** Subjects a tenant user gets that are not under its own tenant: the KV client's shared API calls. */
const SHARED = new Set([
  "$JS.API.INFO",
  "$JS.API.CONSUMER.INFO.KV_sonde-registry.*",
  "$JS.API.CONSUMER.DELETE.KV_sonde-registry.*",
  "$JS.API.CONSUMER.INFO.KV_sonde-control.*",
  "$JS.API.CONSUMER.DELETE.KV_sonde-control.*",
]);

describe("NATS permissions", () => {
  it("scopes every tenant subject to the tenant, apart from the listed shared API calls", () => {
    const p = tenantPermissions("acme");
    for (const subject of [...p.publish, ...p.subscribe]) {
      if (SHARED.has(subject)) continue;
      // the tenant's token sits right after the root, the bucket, or the inbox prefix
      expect(subject, subject).toMatch(
        /(^sonde\.acme\.>$)|(\$KV\.sonde-(registry|control)\.acme\.>$)|(^_INBOX\.sonde\.acme\.>$)/,
      );
    }
    expect(p.publish).not.toContain("$KV.sonde-control.acme.>"); // core alone writes the control bucket
    expect(p.publish.filter((s) => s.includes("STREAM"))).toEqual([]); // stream info would list all keys
    expect(p.subscribe).toEqual(["sonde.acme.>", `${tenantInboxPrefix("acme")}.>`]);
    expect(p.allowResponses).toBe(true);
  });

  it.each(["a.>", "*", ">", "a b", "A", "a.b", ""])(
    "refuses the tenant slug %j, which could widen a grant",
    (slug) => {
      expect(() => tenantPermissions(slug)).toThrow(/invalid tenant/);
      expect(() => tenantInboxPrefix(slug)).toThrow(/invalid tenant/);
    },
  );

  it("renders quoted subjects so that nats-server does not read $JS or $KV as variables", () => {
    const text = renderAuthorization(
      [
        { user: "sonde-core", password: "p1", permissions: corePermissions() },
        { user: "sonde-tenant-acme", password: "p2", permissions: tenantPermissions("acme") },
      ],
      "header line",
    );
    expect(text).toMatch(/^# header line\nauthorization \{\n {2}users = \[/);
    expect(text).toContain('"$JS.API.>"');
    expect(text).not.toMatch(/[^"]\$JS/);
    expect(text.match(/allow_responses: true/g)).toHaveLength(1);
  });
});
