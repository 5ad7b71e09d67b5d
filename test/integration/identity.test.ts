/**
 * Sign-in end to end over HTTP: better-auth's routes mounted in Sonde's server, the session and
 * API-token resolver, memberships deciding the tenant, and the JSON:API refusing another tenant.
 */
import { eq } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meRoutes } from "../../src/api/auth/me.js";
import { createActorResolver } from "../../src/api/auth/resolver.js";
import { authRoutes } from "../../src/api/auth/routes.js";
import { testHttpServer } from "../support/http-server.js";
import { jsonApiRoutes } from "../../src/api/jsonapi/routes.js";
import { type Auth, createAuth } from "../../src/domains/identity/auth.js";
import { authUser } from "../../src/domains/identity/auth.schema.js";
import { auditEvents } from "../../src/kernel/kernel.schema.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { type Fixture, setupKernel } from "../support/kernel-fixtures.js";
import { serviceGate } from "../support/services.js";
import { addMembership, cookieHeader, createTestUser, testMailer } from "../support/auth.js";

const ORIGIN = "http://localhost:8080";
const JSONAPI = "application/vnd.api+json";
const PASSWORD = "correct horse battery staple";

interface Reply {
  readonly status: number;
  readonly json: Record<string, unknown>;
  readonly cookies: string[];
}

function suite(target: DatabaseTarget) {
  describe(`identity: ${target.name}`, () => {
    let t: TestDatabase;
    let f: Fixture;
    let auth: Auth;
    let app: FastifyInstance;

    beforeAll(async () => {
      t = await target.open();
      f = await setupKernel(t.db);
      const config = { SONDE_SECRET: "s".repeat(40), SONDE_PUBLIC_URL: ORIGIN, PORT: 8080 };
      auth = createAuth({ orm: t.db.orm, config, logger: silentLogger, mailer: testMailer().mailer });
      const resolveActor = createActorResolver({ auth, orm: t.db.orm, logger: silentLogger });
      app = await testHttpServer();
      await app.register(authRoutes, { auth, publicUrl: ORIGIN });
      await app.register(meRoutes, { prefix: "/api/v2", orm: t.db.orm, auth, resolveActor });
      await app.register(jsonApiRoutes, { prefix: "/api/v2", kernel: f.kernel, resolveActor });
      await app.ready();
    });
    afterAll(async () => {
      await app?.close();
      await t?.dispose();
    });

    async function call(
      method: "GET" | "POST",
      url: string,
      opts: { body?: unknown; cookie?: string; headers?: Record<string, string> } = {},
    ): Promise<Reply> {
      const headers: Record<string, string> = { origin: ORIGIN, ...opts.headers };
      if (opts.cookie !== undefined) headers.cookie = opts.cookie;
      if (opts.body !== undefined) headers["content-type"] ??= "application/json";
      const res = await app.inject({
        method,
        url,
        headers,
        // better-auth's rate limits count per address: one address per suite.
        remoteAddress: target.name === "embedded" ? "10.0.0.1" : "10.0.0.2",
        ...(opts.body !== undefined ? { payload: JSON.stringify(opts.body) } : {}),
      });
      const raw = res.headers["set-cookie"];
      const cookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      const json = res.body === "" ? {} : (JSON.parse(res.body) as Record<string, unknown>);
      return { status: res.statusCode, json, cookies };
    }

    /** Makes a user (sign-up is closed), signs them in with their password, returns the cookie. */
    async function signUp(email: string): Promise<{ userId: string; cookie: string }> {
      const userId = await createTestUser(auth, { email, password: PASSWORD });
      const res = await call("POST", "/api/auth/sign-in/email", { body: { email, password: PASSWORD } });
      expect(res.status).toBe(200);
      return { userId, cookie: cookieHeader(res.cookies) };
    }

    it("refuses sign-up: users come from invitations, the CLI and the first run", async () => {
      const res = await call("POST", "/api/auth/sign-up/email", {
        body: { email: "eve@example.com", password: PASSWORD, name: "Eve" },
      });
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ code: "EMAIL_PASSWORD_SIGN_UP_DISABLED" });
      expect(res.cookies).toEqual([]);
      const rows = await t.db.orm.select().from(authUser).where(eq(authUser.email, "eve@example.com"));
      expect(rows).toEqual([]);
    });

    it("signs in with email and password, and answers /me from the session", async () => {
      const userId = await createTestUser(auth, { email: "ada@example.com", password: PASSWORD });
      await addMembership(t.db.orm, f.tenantA, userId, "operator");
      const wrong = await call("POST", "/api/auth/sign-in/email", {
        body: { email: "ada@example.com", password: "not the password" },
      });
      expect(wrong.status).toBe(401);
      expect(wrong.cookies).toEqual([]);

      const signIn = await call("POST", "/api/auth/sign-in/email", {
        body: { email: "ada@example.com", password: PASSWORD },
      });
      expect(signIn.status).toBe(200);
      const session = signIn.cookies.find((c) => c.includes("session_token"));
      expect(session).toMatch(/HttpOnly/i);
      expect(session).toMatch(/SameSite=Lax/i);

      const me = await call("GET", "/api/v2/me", { cookie: cookieHeader(signIn.cookies) });
      expect(me.status).toBe(200);
      expect(me.json).toMatchObject({
        user: { id: userId, email: "ada@example.com", super_user: false },
        tenant: { id: f.tenantA, slug: "acme" },
        role: "operator",
        memberships: [{ tenant: { slug: "acme" }, role: "operator" }],
      });
      expect((await call("GET", "/api/v2/me")).status).toBe(401);
    });

    it("keeps a member of tenant A out of tenant B, and refuses a user with no membership", async () => {
      const { userId, cookie } = await signUp("bob@example.com");
      expect((await call("GET", "/api/v2/notes", { cookie, headers: { accept: JSONAPI } })).status).toBe(403);
      await addMembership(t.db.orm, f.tenantA, userId, "admin");
      const b = await f.kernel.create(
        f.kernel.resource("notes"),
        { actor: f.actor(f.tenantB, "admin") },
        {
          title: "b-only",
          owner_id: "x",
        },
      );
      const list = await call("GET", "/api/v2/notes", { cookie, headers: { accept: JSONAPI } });
      expect(list.status).toBe(200);
      expect(JSON.stringify(list.json)).not.toContain("b-only");
      const one = await call("GET", `/api/v2/notes/${String(b.id)}`, {
        cookie,
        headers: { accept: JSONAPI },
      });
      expect(one.status).toBe(404);
      const asB = await call("GET", "/api/v2/notes", {
        cookie,
        headers: { accept: JSONAPI, "x-sonde-tenant": "globex" },
      });
      expect(asB.status).toBe(403);
    });

    it("lets a super user act in another tenant with X-Sonde-Tenant, audited as a bypass", async () => {
      const { userId, cookie } = await signUp("root@example.com");
      await t.db.orm.update(authUser).set({ superUser: true }).where(eq(authUser.id, userId));
      const res = await call("GET", "/api/v2/notes", {
        cookie,
        headers: { accept: JSONAPI, "x-sonde-tenant": "globex" },
      });
      expect(res.status).toBe(200);
      const me = await call("GET", "/api/v2/me", { cookie, headers: { "x-sonde-tenant": f.tenantB } });
      expect(me.json).toMatchObject({
        tenant: { slug: "globex" },
        role: "admin",
        user: { super_user: true },
      });
      const audits = await t.db.orm.select().from(auditEvents).where(eq(auditEvents.actor_id, userId));
      expect(audits.length).toBeGreaterThanOrEqual(2);
      expect(audits.every((a) => a.kind === "bypass" && a.tenant_id === f.tenantB)).toBe(true);
    });

    it("signs out: the session cookie stops working", async () => {
      const { userId, cookie } = await signUp("dee@example.com");
      await addMembership(t.db.orm, f.tenantB, userId, "viewer");
      expect((await call("GET", "/api/v2/me", { cookie })).status).toBe(200);
      const out = await call("POST", "/api/auth/sign-out", { cookie, body: {} });
      expect(out.status).toBe(200);
      expect((await call("GET", "/api/v2/me", { cookie })).status).toBe(401);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
