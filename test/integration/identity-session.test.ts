/**
 * Choosing the tenant a session acts in: POST /api/v2/me/tenant for members of several tenants, never
 * for API tokens (bound to theirs), and for super users into any tenant, audited there as a bypass.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents } from "../../src/kernel/kernel.schema.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import {
  error,
  type IdentityHarness,
  many,
  openIdentityHarness,
  type Res,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

function suite(target: DatabaseTarget) {
  describe(`identity session tenant switch: ${target.name}`, () => {
    let h: IdentityHarness;
    let acme: string;
    let globex: string;
    let initech: string;
    let sam: string;
    let session: { readonly cookie: string };

    const switchTo = (as: { cookie: string } | { token: string } | undefined, tenant: unknown) =>
      h.call("POST", "/api/v2/me/tenant", { as, body: { tenant } });
    const me = async (as: { cookie: string }) => {
      const res = await h.call("GET", "/api/v2/me", { as });
      expect(res.status).toBe(200);
      return res.json;
    };

    beforeAll(async () => {
      h = await openIdentityHarness(target);
      acme = await h.createTenant("acme");
      globex = await h.createTenant("globex");
      initech = await h.createTenant("initech");
      sam = await h.createUser("sam@example.com");
      await h.addMember(acme, sam, "viewer");
      await h.addMember(globex, sam, "admin");
      await h.addMember(globex, await h.createUser("gus@example.com", { password: null }), "operator");
      session = await h.signIn("sam@example.com");
    });
    afterAll(async () => h?.close());

    it("switches a member's session between their tenants", async () => {
      expect(await me(session)).toMatchObject({ tenant: { slug: "acme" }, role: "viewer" });
      const res = await switchTo(session, "globex");
      expect([res.status, res.headers["cache-control"]]).toEqual([200, "no-store"]);
      expect(res.json).toMatchObject({ tenant: { id: globex, slug: "globex" }, role: "admin" });
      expect(await me(session)).toMatchObject({ tenant: { slug: "globex" }, role: "admin" });
      // The JSON:API follows: globex's memberships, as globex's admin.
      const members = many(await h.call("GET", "/api/v2/memberships", { as: session }));
      expect(members.map((m) => m.attributes.role).sort()).toEqual(["admin", "operator"]);
      // Back by id.
      expect((await switchTo(session, acme)).json).toMatchObject({
        tenant: { slug: "acme" },
        role: "viewer",
      });
      expect(await me(session)).toMatchObject({ tenant: { slug: "acme" }, role: "viewer" });
      expect(many(await h.call("GET", "/api/v2/memberships", { as: session }))).toHaveLength(1);
    });

    it("refuses tenants the user is not in, tokens, and malformed requests", async () => {
      const forbidden = (res: Res) => expect([res.status, error(res).code]).toEqual([403, "SONDE_FORBIDDEN"]);
      forbidden(await switchTo(session, "initech"));
      forbidden(await switchTo(session, initech));
      forbidden(await switchTo(session, "no-such-tenant"));
      expect(await me(session)).toMatchObject({ tenant: { slug: "acme" } });

      const { token } = await h.mintToken(session, { name: "t", scope: "admin" });
      const withToken = await switchTo({ token }, "globex");
      expect([withToken.status, error(withToken).code]).toEqual([400, "SONDE_BAD_REQUEST"]);
      const anonymous = await switchTo(undefined, "globex");
      expect([anonymous.status, error(anonymous).code]).toEqual([401, "SONDE_UNAUTHENTICATED"]);
      for (const body of [{}, { tenant: "" }, { tenant: "globex", role: "admin" }]) {
        const res = await h.call("POST", "/api/v2/me/tenant", { as: session, body });
        expect([res.status, error(res).source?.pointer]).toEqual([422, "/tenant"]);
      }
    });

    it("lets a super user switch into any tenant, audited as a bypass there", async () => {
      const root = await h.createUser("root@example.com", { superUser: true });
      const rootSession = await h.signIn("root@example.com");
      const res = await switchTo(rootSession, "initech");
      expect(res.json).toMatchObject({ tenant: { id: initech }, role: "admin" });
      const audited = () =>
        h.t.db.orm
          .select()
          .from(auditEvents)
          .where(and(eq(auditEvents.actor_id, root), eq(auditEvents.tenant_id, initech)));
      // The switch itself is on record, before any request in the tenant.
      const atSwitch = await audited();
      expect(atSwitch.length).toBeGreaterThanOrEqual(1);
      expect(atSwitch.every((a) => a.kind === "bypass")).toBe(true);

      expect(await me(rootSession)).toMatchObject({
        tenant: { slug: "initech" },
        role: "admin",
        user: { super_user: true },
      });
      expect((await h.call("GET", "/api/v2/memberships", { as: rootSession })).status).toBe(200);
      expect((await audited()).length).toBeGreaterThan(atSwitch.length);
      const elsewhere = await h.t.db.orm.select().from(auditEvents).where(eq(auditEvents.actor_id, root));
      expect(elsewhere.every((a) => a.tenant_id === initech)).toBe(true);
    });

    it("keeps members out of a suspended tenant, but not the super user", async () => {
      await h.kernel.runAction(
        h.kernel.resource("tenant"),
        "suspend",
        { actor: { kind: "system", reason: "test" } },
        { id: globex },
      );
      const res = await switchTo(session, "globex");
      expect([res.status, error(res).code]).toEqual([403, "SONDE_TENANT_SUSPENDED"]);
      const rootSession = await h.signIn("root@example.com");
      expect((await switchTo(rootSession, "globex")).status).toBe(200);
      expect(await me(rootSession)).toMatchObject({ tenant: { slug: "globex" } });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
