/**
 * API tokens over HTTP: minted once (`meta.token`, not cached, never shown again), scoped (read,
 * write, admin) on top of the user's role, bound to their tenant, refused when revoked or expired,
 * their use recorded, and their lifetime bounded.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/domains/identity/secrets.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import {
  type Credential,
  doc,
  error,
  type IdentityHarness,
  many,
  one,
  openIdentityHarness,
  type Res,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

const DAY = 86_400_000;

function suite(target: DatabaseTarget) {
  describe(`identity API tokens: ${target.name}`, () => {
    let h: IdentityHarness;
    let acme: string;
    let globex: string;
    let ada: { readonly cookie: string };
    let root: { readonly cookie: string };
    let n = 0;
    const tokenOf = async (as: Credential, scope: string) =>
      h.mintToken(as, { name: `${scope}-${++n}`, scope });
    const scopeRefused = (res: Res) => {
      expect([res.status, error(res).code, error(res).meta?.reason]).toEqual([
        403,
        "SONDE_FORBIDDEN",
        "token scope",
      ]);
    };
    const freshMembership = async () => {
      const user = await h.createUser(`m${++n}@example.com`, { password: null });
      return h.addMember(acme, user, "viewer");
    };

    beforeAll(async () => {
      h = await openIdentityHarness(target);
      acme = await h.createTenant("acme");
      globex = await h.createTenant("globex");
      const adaId = await h.createUser("ada@example.com");
      await h.addMember(acme, adaId, "admin");
      await h.addMember(globex, adaId, "viewer");
      const rootId = await h.createUser("root@example.com", { superUser: true });
      await h.addMember(acme, rootId, "admin");
      ada = await h.signIn("ada@example.com");
      root = await h.signIn("root@example.com");
    });
    afterAll(async () => h?.close());

    it("shows a new token once, uncached, and never again, nor its hash", async () => {
      const { id, token, res } = await tokenOf(ada, "read");
      expect(token).toMatch(/^sonde_[A-Za-z0-9_-]{43}$/);
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(res.headers.location).toMatch(new RegExp(`/api/v2/api-tokens/${id}$`));
      const created = one(res);
      expect(created.attributes).toMatchObject({ scope: "read", prefix: token.slice(0, 12), use_count: 0 });
      expect(created.attributes).not.toHaveProperty("token_hash");
      for (const url of [
        `/api/v2/api-tokens/${id}`,
        "/api/v2/api-tokens",
        `/api/v2/api-tokens?filter[id]=${id}`,
      ]) {
        const again = await h.call("GET", url, { as: ada });
        expect(again.status).toBe(200);
        expect(again.doc.meta?.token).toBeUndefined();
        expect(again.raw).not.toContain(token);
        expect(again.raw).not.toContain(hashSecret(token));
        expect(again.raw).not.toContain("token_hash");
      }
      expect((await h.call("GET", `/api/v2/api-tokens?filter[token_hash]=x`, { as: ada })).status).toBe(400);
    });

    it("read tokens read, and write nothing", async () => {
      const as = { token: (await tokenOf(ada, "read")).token };
      expect((await h.call("GET", "/api/v2/tenants", { as })).status).toBe(200);
      expect((await h.call("GET", `/api/v2/tenants/${acme}`, { as })).status).toBe(200);
      const me = await h.call("GET", "/api/v2/me", { as });
      expect(me.json).toMatchObject({ tenant: { slug: "acme" }, role: "admin", scopes: ["read"] });
      // Identity resources need an admin-scoped token even to be read.
      scopeRefused(await h.call("GET", "/api/v2/memberships", { as }));
      const m = await freshMembership();
      scopeRefused(
        await h.call("PATCH", `/api/v2/memberships/${m}`, {
          as,
          body: doc("memberships", { role: "operator" }, m),
        }),
      );
      scopeRefused(await h.call("DELETE", `/api/v2/memberships/${m}`, { as }));
      scopeRefused(
        await h.call("POST", "/api/v2/invitations", {
          as,
          body: doc("invitations", { email: "r@example.com", role: "viewer" }),
        }),
      );
      // A super user's read token cannot do what the super user's session can.
      const rootRead = { token: (await tokenOf(root, "read")).token };
      scopeRefused(
        await h.call("PATCH", `/api/v2/tenants/${acme}`, {
          as: rootRead,
          body: doc("tenants", { name: "Acme" }, acme),
        }),
      );
      scopeRefused(
        await h.call("POST", "/api/v2/tenants", {
          as: rootRead,
          body: doc("tenants", { slug: "nope", name: "Nope" }),
        }),
      );
    });

    it("write tokens change tenant resources but not users, memberships, invitations or tokens", async () => {
      const rootWrite = { token: (await tokenOf(root, "write")).token };
      const patched = await h.call("PATCH", `/api/v2/tenants/${acme}`, {
        as: rootWrite,
        body: doc("tenants", { name: "Acme Corp" }, acme),
      });
      expect([patched.status, one(patched).attributes.name]).toEqual([200, "Acme Corp"]);
      const made = await h.call("POST", "/api/v2/tenants", {
        as: rootWrite,
        body: doc("tenants", { slug: "by-token", name: "T" }),
      });
      expect(made.status).toBe(201);

      const as = { token: (await tokenOf(ada, "write")).token };
      expect((await h.call("GET", "/api/v2/tenants", { as })).status).toBe(200);
      for (const path of ["/users", "/memberships", "/invitations", "/api-tokens"]) {
        scopeRefused(await h.call("GET", `/api/v2${path}`, { as }));
      }
      scopeRefused(
        await h.call("POST", "/api/v2/invitations", {
          as,
          body: doc("invitations", { email: "w@example.com", role: "viewer" }),
        }),
      );
      // A write token cannot mint an admin token (nor any token).
      scopeRefused(
        await h.call("POST", "/api/v2/api-tokens", {
          as,
          body: doc("api-tokens", { name: "up", scope: "admin" }),
        }),
      );
    });

    it("admin tokens do what their user's role allows, no more", async () => {
      const as = { token: (await tokenOf(ada, "admin")).token };
      expect((await h.call("GET", "/api/v2/users", { as })).status).toBe(200);
      expect((await h.call("GET", "/api/v2/memberships", { as })).status).toBe(200);
      const invited = await h.call("POST", "/api/v2/invitations", {
        as,
        body: doc("invitations", { email: "a@example.com", role: "viewer" }),
      });
      expect(invited.status).toBe(201);
      const minted = await h.call("POST", "/api/v2/api-tokens", {
        as,
        body: doc("api-tokens", { name: "child", scope: "admin" }),
      });
      expect([minted.status, typeof minted.doc.meta?.token]).toEqual([201, "string"]);
      expect((await h.call("DELETE", `/api/v2/memberships/${await freshMembership()}`, { as })).status).toBe(
        204,
      );
      // Ada is an admin, not a super user: the tenant is not hers to change, another is not hers to see.
      const patch = await h.call("PATCH", `/api/v2/tenants/${acme}`, {
        as,
        body: doc("tenants", { name: "Mine" }, acme),
      });
      expect([patch.status, error(patch).meta?.reason]).toEqual([403, "policy"]);
      expect((await h.call("GET", `/api/v2/tenants/${globex}`, { as })).status).toBe(404);
    });

    it("refuses revoked and expired tokens with 401", async () => {
      const revoked = await tokenOf(ada, "admin");
      const as = { token: revoked.token };
      expect((await h.call("GET", "/api/v2/me", { as })).status).toBe(200);
      const res = await h.call("POST", `/api/v2/api-tokens/${revoked.id}/revoke`, { as: ada });
      expect(res.status).toBe(200);
      expect(one(res).attributes.revoked_at).not.toBeNull();
      for (const url of ["/api/v2/me", "/api/v2/tenants"]) {
        const refused = await h.call("GET", url, { as });
        expect([refused.status, error(refused).code]).toEqual([401, "SONDE_UNAUTHENTICATED"]);
      }
      expect((await h.call("GET", "/api/v2/tenants", { as })).headers["www-authenticate"]).toMatch(/^Bearer/);
      const twice = await h.call("POST", `/api/v2/api-tokens/${revoked.id}/revoke`, { as: ada });
      expect([twice.status, error(twice).source?.pointer]).toEqual([422, "/data/attributes/revoked_at"]);

      const expiring = await h.mintToken(ada, {
        name: "short",
        scope: "read",
        expires_at: new Date(Date.now() + DAY).toISOString(),
      });
      expect((await h.call("GET", "/api/v2/tenants", { as: { token: expiring.token } })).status).toBe(200);
      await h.t.db.orm.execute(
        sql`update api_tokens set expires_at = now() - interval '1 minute' where id = ${expiring.id}`,
      );
      expect((await h.call("GET", "/api/v2/tenants", { as: { token: expiring.token } })).status).toBe(401);
      expect((await h.call("GET", "/api/v2/tenants", { as: { token: "sonde_unknown" } })).status).toBe(401);
    });

    it("binds a token to its tenant: X-Sonde-Tenant naming another is 403", async () => {
      // Ada is a member of globex too, and root a super user: neither token leaves acme.
      for (const as of [ada, root]) {
        const { token } = await tokenOf(as, "admin");
        const res = await h.call("GET", "/api/v2/tenants", { as: { token }, tenant: "globex" });
        expect([res.status, error(res).code]).toEqual([403, "SONDE_FORBIDDEN"]);
        expect(res.raw).toContain("acts only in its own tenant");
        expect((await h.call("GET", "/api/v2/me", { as: { token }, tenant: globex })).status).toBe(403);
        expect((await h.call("GET", "/api/v2/tenants", { as: { token }, tenant: "acme" })).status).toBe(200);
      }
    });

    it("records use_count, last_used_at and last_used_ip once flushed", async () => {
      const { id, token } = await tokenOf(ada, "read");
      const before = Date.now();
      for (let i = 0; i < 3; i++) {
        const res = await h.call("GET", "/api/v2/tenants", { as: { token }, remoteAddress: "192.0.2.7" });
        expect(res.status).toBe(200);
      }
      await h.tokenUsage.flush();
      const seen = one(await h.call("GET", `/api/v2/api-tokens/${id}`, { as: ada })).attributes;
      expect(seen.use_count).toBe(3);
      expect(seen.last_used_ip).toBe("192.0.2.7");
      expect(Date.parse(String(seen.last_used_at))).toBeGreaterThanOrEqual(before - 1000);
      // A refused token is not counted.
      await h.call("POST", `/api/v2/api-tokens/${id}/revoke`, { as: ada });
      await h.call("GET", "/api/v2/tenants", { as: { token } });
      await h.tokenUsage.flush();
      expect(one(await h.call("GET", `/api/v2/api-tokens/${id}`, { as: ada })).attributes.use_count).toBe(3);
    });

    it("refuses an expiry in the past or beyond 366 days, pointing at expires_at", async () => {
      for (const at of [Date.now() - DAY, Date.now() + 367 * DAY]) {
        const res = await h.call("POST", "/api/v2/api-tokens", {
          as: ada,
          body: doc("api-tokens", { name: "bad", scope: "read", expires_at: new Date(at).toISOString() }),
        });
        expect([res.status, error(res).code, error(res).source?.pointer]).toEqual([
          422,
          "SONDE_VALIDATION_FAILED",
          "/data/attributes/expires_at",
        ]);
        expect(res.doc.meta?.token).toBeUndefined();
      }
      const ok = await h.mintToken(ada, {
        name: "year",
        scope: "read",
        expires_at: new Date(Date.now() + 365 * DAY).toISOString(),
      });
      expect(ok.res.status).toBe(201);
      const names = many(await h.call("GET", "/api/v2/api-tokens?page[size]=1000", { as: ada })).map(
        (t) => t.attributes.name,
      );
      expect(names).not.toContain("bad");
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
