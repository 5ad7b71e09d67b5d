/**
 * Cross-tenant probes on the identity resources: an admin of acme, with a session and with an admin
 * token, aims every identity route at globex's records by id. Nothing of globex may come back (404,
 * or 403 where acme's admin may not run the action at all), lists and filters never show its rows,
 * its records stay unchanged, and row-level security alone hides them from raw SQL in acme's scope.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "../../src/kernel/actor.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { sql } from "drizzle-orm";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import {
  type CallOptions,
  doc,
  error,
  type IdentityHarness,
  many,
  type Method,
  openIdentityHarness,
  type Res,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

const system = systemActor("cross-tenant");

function suite(target: DatabaseTarget) {
  describe(`identity cross-tenant probes: ${target.name}`, () => {
    let h: IdentityHarness;
    let acme: string;
    let globex: string;
    let ada: string;
    const b = { bob: "", bea: "", membership: "", invitation: "", token: "", prefix: "" };
    const creds: Array<[string, CallOptions]> = [];
    /** Strings that name globex's data; none may appear in a response to acme. */
    let secrets: readonly string[] = [];

    /** No globex data in the response, beyond the id the request named itself. */
    const noLeak = (res: Res, path = "") => {
      for (const s of secrets) {
        if (!path.includes(s)) expect(res.raw, `${res.status} leaked ${s}`).not.toContain(s);
      }
    };

    beforeAll(async () => {
      h = await openIdentityHarness(target);
      acme = await h.createTenant("acme");
      globex = await h.createTenant("globex", { contact_email: "ceo@globex.example" });
      ada = await h.createUser("ada@example.com");
      await h.addMember(acme, ada, "admin");
      await h.addMember(acme, await h.createUser("amy@example.com", { password: null }), "viewer");
      b.bob = await h.createUser("bob@globex.example", { password: null });
      b.bea = await h.createUser("bea@globex.example", { password: null });
      await h.addMember(globex, b.bob, "admin");
      b.membership = await h.addMember(globex, b.bea, "operator");
      const k = h.kernel;
      const inv = await k.create(
        k.resource("invitation"),
        { actor: system, tenantId: globex },
        { email: "carl@globex.example", role: "viewer" },
      );
      b.invitation = String(inv.id);
      const tok = await k.create(
        k.resource("api_token"),
        { actor: system, tenantId: globex },
        { name: "globex-automation", scope: "admin", user_id: b.bob },
      );
      b.token = String(tok.id);
      b.prefix = String(tok.prefix);
      secrets = [
        "globex.example",
        "globex-automation",
        b.prefix,
        b.bob,
        b.bea,
        b.membership,
        b.invitation,
        b.token,
        globex,
      ];
      const session = await h.signIn("ada@example.com");
      const { token } = await h.mintToken(session, { name: "ada-admin", scope: "admin" });
      creds.push(["session", { as: session }], ["admin token", { as: { token } }]);
    });
    afterAll(async () => h?.close());

    it("answers 404 (or 403 where acme's admin may not act at all) on every route by globex's ids", async () => {
      // [method, path, body, expected status]: 403 only where the action is refused before any row is read.
      const probes: Array<[Method, string, unknown, number]> = [
        ["GET", `/memberships/${b.membership}`, undefined, 404],
        ["PATCH", `/memberships/${b.membership}`, doc("memberships", { role: "admin" }, b.membership), 404],
        ["DELETE", `/memberships/${b.membership}`, undefined, 404],
        ["GET", `/memberships/${b.membership}/user`, undefined, 404],
        ["GET", `/memberships/${b.membership}/relationships/user`, undefined, 404],
        ["GET", `/invitations/${b.invitation}`, undefined, 404],
        ["GET", `/invitations/${b.invitation}/history`, undefined, 404],
        ["POST", `/invitations/${b.invitation}/resend`, undefined, 404],
        ["POST", `/invitations/${b.invitation}/revoke`, undefined, 404],
        ["GET", `/api-tokens/${b.token}`, undefined, 404],
        ["GET", `/api-tokens/${b.token}/user`, undefined, 404],
        ["POST", `/api-tokens/${b.token}/revoke`, undefined, 404],
        ["GET", `/users/${b.bob}`, undefined, 404],
        ["GET", `/users/${b.bob}/memberships`, undefined, 404],
        ["PATCH", `/users/${b.bob}`, doc("users", { super_user: true }, b.bob), 403],
        ["GET", `/tenants/${globex}`, undefined, 404],
        ["GET", `/tenants/${globex}/history`, undefined, 404],
        ["PATCH", `/tenants/${globex}`, doc("tenants", { name: "Pwned" }, globex), 403],
        ["POST", `/tenants/${globex}/suspend`, undefined, 403],
        ["POST", `/tenants/${globex}/resume`, undefined, 403],
      ];
      for (const [label, cred] of creds) {
        for (const [method, path, body, status] of probes) {
          const res = await h.call(method, `/api/v2${path}`, {
            ...cred,
            ...(body !== undefined ? { body } : {}),
          });
          expect({ label, method, path, status: res.status }).toEqual({ label, method, path, status });
          expect(error(res).code).toBe(status === 404 ? "SONDE_NOT_FOUND" : "SONDE_FORBIDDEN");
          noLeak(res, path);
        }
      }
    });

    it("never lists, filters or includes globex's rows", async () => {
      for (const [, cred] of creds) {
        for (const path of [
          "/memberships?include=user&page[size]=1000",
          "/users?page[size]=1000",
          "/invitations?page[size]=1000",
          "/api-tokens?include=user&page[size]=1000",
          "/tenants",
          `/memberships?filter[user_id]=${b.bea}`,
          `/api-tokens?filter[user_id]=${b.bob}`,
          "/users?filter[email]=bob@globex.example",
          `/tenants?filter[slug]=globex`,
          `/invitations?filter[email]=carl@globex.example`,
        ]) {
          const res = await h.call("GET", `/api/v2${path}`, cred);
          expect(res.status, path).toBe(200);
          expect(
            many(res).every((r) => !secrets.includes(r.id)),
            path,
          ).toBe(true);
          noLeak(res, decodeURIComponent(path));
        }
        expect(many(await h.call("GET", "/api/v2/users", cred)).map((u) => u.attributes.email)).toEqual(
          expect.arrayContaining(["ada@example.com", "amy@example.com"]),
        );
      }
    });

    it("leaves globex's records as they were", async () => {
      const k = h.kernel;
      const ctx = { actor: system, tenantId: globex };
      expect((await k.get(k.resource("membership"), ctx, b.membership)).role).toBe("operator");
      expect((await k.get(k.resource("invitation"), ctx, b.invitation)).state).toBe("pending");
      expect((await k.get(k.resource("api_token"), ctx, b.token)).revoked_at).toBeNull();
      const tenant = await k.get(k.resource("tenant"), { actor: system }, globex);
      expect([tenant.name, tenant.status]).toEqual(["globex", "active"]);
      expect((await k.get(k.resource("user"), { actor: system }, b.bob)).super_user).toBe(false);
    });

    it("hides globex's rows from raw SQL in acme's scope (row-level security alone)", async () => {
      await inScope(h.t.db.orm, { tenantId: acme, bypass: false }, async (tx) => {
        for (const table of ["api_tokens", "invitations", "memberships"]) {
          const rows = await queryRows<{ tenant_id: string }>(
            tx,
            sql`select tenant_id from ${sql.identifier(table)}`,
          );
          expect(
            rows.every((r) => r.tenant_id === acme),
            table,
          ).toBe(true);
        }
        const memberships = await queryRows<{ n: number }>(
          tx,
          sql`select count(*)::int as n from memberships`,
        );
        expect(memberships[0]?.n).toBe(2);
        const users = await queryRows<{ id: string }>(tx, sql`select id from "user"`);
        expect(users.map((u) => u.id)).toContain(ada);
        expect(users.map((u) => u.id)).not.toContain(b.bob);
        expect(users.map((u) => u.id)).not.toContain(b.bea);
        expect(users).toHaveLength(2);
      });
      // The same statements as the cross-tenant role see both tenants: the test would notice a no-op.
      await inScope(h.t.db.orm, { tenantId: null, bypass: true }, async (tx) => {
        const rows = await queryRows<{ n: number }>(
          tx,
          sql`select count(distinct tenant_id)::int as n from memberships`,
        );
        expect(rows[0]?.n).toBe(2);
      });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
