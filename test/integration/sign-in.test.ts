/**
 * Every sign-in method end to end over HTTP, with better-auth mounted in Sonde's server and the mails
 * read from a dev mailbox: email + password with a confirmed address, the confirmation link, magic
 * links, password reset, a real local OIDC provider, GitHub and Google up to their authorize URL, log
 * out everywhere, rate limits, CSRF and cookie attributes. Sign-up is closed, so users are made
 * through better-auth's adapter (test/support/auth.ts) and no method may create one.
 */
import { symmetricDecrypt } from "better-auth/crypto";
import { and, eq, like, sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { meRoutes } from "../../src/api/auth/me.js";
import { createActorResolver } from "../../src/api/auth/resolver.js";
import { resetPageRoutes } from "../../src/api/auth/reset-page.js";
import { authRoutes } from "../../src/api/auth/routes.js";
import { type Auth, type AuthConfig, createAuth, startSignIn } from "../../src/domains/identity/auth.js";
import {
  authAccount,
  authRateLimit,
  authUser,
  authVerification,
} from "../../src/domains/identity/auth.schema.js";
import { tenants } from "../../src/kernel/kernel.schema.js";
import type { DevMailbox, StoredMail } from "../../src/platform/mail/dev-mailbox.js";
import { addMembership, cookieHeader, createTestUser, linkIn, testMailer } from "../support/auth.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { testHttpServer } from "../support/http-server.js";
import { type Fixture, setupKernel } from "../support/kernel-fixtures.js";
import { type OidcProviderHarness, startOidcProvider } from "../support/oidc-provider.js";
import { serviceGate } from "../support/services.js";

const ORIGIN = "http://localhost:8080";
const SECRET = "s".repeat(40);
const HTTPS_ORIGIN = "https://sonde.example.test";
const PASSWORD = "correct horse battery staple";
const NEW_PASSWORD = "a different, longer passphrase";
const OIDC_CLIENT = {
  clientId: "sonde",
  clientSecret: "oidc-client-secret-for-tests",
  redirectUris: [`${ORIGIN}/api/auth/callback/oidc`],
};
const OIDC_USERS = [
  { sub: "op-ada", email: "ada.oidc@example.com", name: "Ada" },
  { sub: "op-nobody", email: "nobody.oidc@example.com", name: "Nobody" },
  { sub: "op-grace", email: "grace.oidc@example.com", emailVerified: false, name: "Grace" },
];

interface Reply {
  readonly status: number;
  readonly json: Record<string, unknown>;
  readonly cookies: string[];
  readonly location: string | undefined;
  readonly raw: string;
  readonly headers: Record<string, unknown>;
}

interface CallOptions {
  body?: unknown;
  cookie?: string;
  headers?: Record<string, string>;
  /** Client address (better-auth's rate limits count per address and path). */
  address?: string;
  origin?: string;
  /** A body sent as is, with this content type (an HTML form post). */
  raw?: string;
  contentType?: string;
}

let addresses = 0;
/** A client address no other test used: rate-limit counters are shared by a suite's instances. */
function freshAddress(): string {
  addresses += 1;
  return `10.1.${Math.floor(addresses / 250)}.${(addresses % 250) + 1}`;
}

async function inject(app: FastifyInstance, method: string, url: string, opts: CallOptions): Promise<Reply> {
  const headers: Record<string, string> = { origin: opts.origin ?? ORIGIN, ...opts.headers };
  if (opts.cookie !== undefined && opts.cookie !== "") headers.cookie = opts.cookie;
  if (opts.body !== undefined) headers["content-type"] ??= "application/json";
  if (opts.contentType !== undefined) headers["content-type"] = opts.contentType;
  const res = await app.inject({
    method: method === "GET" ? "GET" : "POST",
    url,
    headers,
    remoteAddress: opts.address ?? freshAddress(),
    ...(opts.body !== undefined ? { payload: JSON.stringify(opts.body) } : {}),
    ...(opts.raw !== undefined ? { payload: opts.raw } : {}),
  });
  const raw = res.headers["set-cookie"];
  const cookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const type = String(res.headers["content-type"] ?? "");
  const json =
    type.includes("json") && res.body !== "" ? (JSON.parse(res.body) as Record<string, unknown>) : {};
  const location = res.headers.location;
  return {
    status: res.statusCode,
    json,
    cookies,
    location: typeof location === "string" ? location : undefined,
    raw: res.body,
    headers: res.headers,
  };
}

/** The session cookie among `Set-Cookie` headers, when one was set (not cleared). */
function sessionCookie(cookies: readonly string[]): string | undefined {
  return cookies.find((c) => /session_token=[^;]/.test(c));
}

/** Path and query of a link, as the test server is reached. */
function local(url: URL | string): string {
  const u = typeof url === "string" ? new URL(url) : url;
  return `${u.pathname}${u.search}`;
}

function suite(target: DatabaseTarget) {
  describe(`sign-in: ${target.name}`, () => {
    let t: TestDatabase;
    let f: Fixture;
    let op: OidcProviderHarness;
    let auth: Auth;
    let app: FastifyInstance;
    let mailbox: DevMailbox;
    /** A second instance: https public URL, GitHub and Google configured. */
    let httpsApp: FastifyInstance;
    let address: string;

    async function mount(a: Auth, publicUrl: string): Promise<FastifyInstance> {
      const resolveActor = createActorResolver({ auth: a, orm: t.db.orm, logger: silentLogger });
      const server = await testHttpServer();
      await server.register(authRoutes, { auth: a, publicUrl });
      await server.register(resetPageRoutes, { auth: a });
      await server.register(meRoutes, { prefix: "/api/v2", orm: t.db.orm, auth: a, resolveActor });
      await server.ready();
      return server;
    }

    beforeAll(async () => {
      t = await target.open();
      f = await setupKernel(t.db);
      op = await startOidcProvider({ clients: [OIDC_CLIENT], users: OIDC_USERS });
      const mail = testMailer();
      mailbox = mail.mailbox;
      const config: AuthConfig = {
        SONDE_SECRET: SECRET,
        SONDE_PUBLIC_URL: ORIGIN,
        PORT: 8080,
        SONDE_OIDC_ISSUER: op.issuer,
        SONDE_OIDC_CLIENT_ID: OIDC_CLIENT.clientId,
        SONDE_OIDC_CLIENT_SECRET: OIDC_CLIENT.clientSecret,
        SONDE_OIDC_SCOPES: "openid email profile",
      };
      auth = createAuth({ orm: t.db.orm, config, logger: silentLogger, mailer: mail.mailer });
      app = await mount(auth, ORIGIN);
      const httpsConfig: AuthConfig = {
        SONDE_SECRET: SECRET,
        SONDE_PUBLIC_URL: HTTPS_ORIGIN,
        PORT: 8080,
        SONDE_GITHUB_CLIENT_ID: "gh-client-id",
        SONDE_GITHUB_CLIENT_SECRET: "gh-client-secret",
        SONDE_GOOGLE_CLIENT_ID: "google-client-id.apps.googleusercontent.com",
        SONDE_GOOGLE_CLIENT_SECRET: "google-client-secret",
      };
      const httpsAuth = createAuth({
        orm: t.db.orm,
        config: httpsConfig,
        logger: silentLogger,
        mailer: mail.mailer,
      });
      httpsApp = await mount(httpsAuth, HTTPS_ORIGIN);
    });
    afterAll(async () => {
      await app?.close();
      await httpsApp?.close();
      await op?.close();
      await t?.dispose();
    });
    beforeEach(() => {
      address = freshAddress();
    });

    const call = (method: "GET" | "POST", url: string, opts: CallOptions = {}) =>
      inject(app, method, url, { address, ...opts });

    /** A user of tenant A (so that /api/v2/me answers 200 for them). */
    async function member(email: string, opts: { password?: string | null; emailVerified?: boolean } = {}) {
      const userId = await createTestUser(auth, {
        email,
        password: opts.password === undefined ? PASSWORD : opts.password,
        ...(opts.emailVerified !== undefined ? { emailVerified: opts.emailVerified } : {}),
      });
      await addMembership(t.db.orm, f.tenantA, userId, "viewer");
      return userId;
    }

    async function signIn(email: string, password = PASSWORD): Promise<Reply> {
      return call("POST", "/api/auth/sign-in/email", { body: { email, password } });
    }

    async function me(cookie: string): Promise<number> {
      return (await call("GET", "/api/v2/me", { cookie })).status;
    }

    function mails(to: string, tag: string): readonly StoredMail[] {
      return mailbox.list({ to, tag });
    }

    async function userinfoStatus(accessToken: string): Promise<number> {
      const discovery = await fetch(`${op.issuer}/.well-known/openid-configuration`);
      const { userinfo_endpoint: endpoint } = (await discovery.json()) as { userinfo_endpoint: string };
      const res = await fetch(endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
      await res.arrayBuffer();
      return res.status;
    }

    async function usersWithEmail(email: string) {
      return t.db.orm.select({ id: authUser.id }).from(authUser).where(eq(authUser.email, email));
    }

    describe("email and password with a confirmed address", () => {
      it("refuses an unconfirmed user with EMAIL_NOT_VERIFIED and mails a link that confirms and signs in once", async () => {
        const email = "una@example.com";
        const userId = await member(email, { emailVerified: false });
        const refused = await signIn(email);
        expect(refused.status).toBe(403);
        expect(refused.json).toMatchObject({ code: "EMAIL_NOT_VERIFIED", message: "Email not verified" });
        expect(sessionCookie(refused.cookies)).toBeUndefined();

        const sent = mails(email, "verify-email");
        expect(sent).toHaveLength(1);
        const text = sent[0]?.text ?? "";
        expect(text).toContain("expires in 24 hours");
        expect(text).toContain("If you did not ask for this, ignore this mail");
        const link = linkIn(text);
        expect(link.origin).toBe(ORIGIN);
        expect(link.pathname).toBe("/api/auth/verify-email");

        const followed = await call("GET", local(link));
        expect(followed.status).toBe(302);
        expect(followed.location).toBe("/");
        const cookie = cookieHeader(followed.cookies);
        expect(sessionCookie(followed.cookies)).toBeDefined();
        expect(await me(cookie)).toBe(200);
        const [row] = await t.db.orm.select().from(authUser).where(eq(authUser.id, userId));
        expect(row?.emailVerified).toBe(true);
        expect((await signIn(email)).status).toBe(200);

        // Used again, the link signs nobody in.
        const again = await call("GET", local(link));
        expect(again.status).toBe(302);
        expect(sessionCookie(again.cookies)).toBeUndefined();
      });

      it("refuses a confirmation link after its 24 hours", async () => {
        const email = "late@example.com";
        const userId = await member(email, { emailVerified: false });
        expect((await signIn(email)).status).toBe(403);
        const link = linkIn(mails(email, "verify-email")[0]?.text ?? "");
        vi.useFakeTimers({ toFake: ["Date"] });
        try {
          vi.setSystemTime(Date.now() + 24 * 3600 * 1000 + 60_000);
          const expired = await call("GET", local(link));
          expect(expired.status).toBe(302);
          expect(expired.location).toBe("/?error=TOKEN_EXPIRED");
          expect(sessionCookie(expired.cookies)).toBeUndefined();
        } finally {
          vi.useRealTimers();
        }
        const [row] = await t.db.orm.select().from(authUser).where(eq(authUser.id, userId));
        expect(row?.emailVerified).toBe(false);
      });
    });

    describe("magic link", () => {
      async function requestLink(email: string): Promise<Reply> {
        return call("POST", "/api/auth/sign-in/magic-link", { body: { email } });
      }

      it("mails a link that signs in once, stored only as a hash", async () => {
        const email = "mia@example.com";
        await member(email, { password: null });
        const requested = await requestLink(email);
        expect(requested.status).toBe(200);
        expect(requested.json).toEqual({ status: true });
        const sent = mails(email, "magic-link");
        expect(sent).toHaveLength(1);
        expect(sent[0]?.text).toContain("It works once and expires in 15 minutes.");
        expect(sent[0]?.text).toContain("If you did not ask for this, ignore this mail");
        const link = linkIn(sent[0]?.text ?? "");
        expect(link.origin).toBe(ORIGIN);
        expect(link.pathname).toBe("/api/auth/magic-link/verify");
        const token = link.searchParams.get("token") ?? "";
        expect(token.length).toBeGreaterThanOrEqual(32);
        const stored = await t.db.orm.select().from(authVerification);
        expect(stored.some((r) => r.value.includes(email))).toBe(true);
        expect(JSON.stringify(stored)).not.toContain(token);

        const followed = await call("GET", local(link));
        expect(followed.status).toBe(302);
        expect(followed.location).toBe(`${ORIGIN}/`);
        expect(sessionCookie(followed.cookies)).toBeDefined();
        expect(await me(cookieHeader(followed.cookies))).toBe(200);

        const again = await call("GET", local(link));
        expect(again.status).toBe(302);
        expect(again.location).toBe(`${ORIGIN}/?error=INVALID_TOKEN`);
        expect(sessionCookie(again.cookies)).toBeUndefined();
      });

      it("refuses an expired link", async () => {
        const email = "max@example.com";
        await member(email, { password: null });
        expect((await requestLink(email)).status).toBe(200);
        const link = linkIn(mails(email, "magic-link")[0]?.text ?? "");
        const expired = await t.db.orm
          .update(authVerification)
          .set({ expiresAt: sql`now() - interval '1 minute'` })
          .where(like(authVerification.value, `%"${email}"%`))
          .returning({ id: authVerification.id });
        expect(expired).toHaveLength(1);
        const followed = await call("GET", local(link));
        expect(followed.status).toBe(302);
        expect(followed.location).toBe(`${ORIGIN}/?error=INVALID_TOKEN`);
        expect(sessionCookie(followed.cookies)).toBeUndefined();
      });

      it("creates no user: an unknown address gets no mail, and a link of a deleted user is refused", async () => {
        const unknown = "stranger@example.com";
        const requested = await requestLink(unknown);
        expect(requested.status).toBe(200);
        expect(requested.json).toEqual({ status: true });
        expect(mails(unknown, "magic-link")).toHaveLength(0);
        expect(await usersWithEmail(unknown)).toEqual([]);

        const gone = "gone@example.com";
        const userId = await member(gone, { password: null });
        expect((await requestLink(gone)).status).toBe(200);
        const link = linkIn(mails(gone, "magic-link")[0]?.text ?? "");
        await t.db.orm.delete(authUser).where(eq(authUser.id, userId));
        const followed = await call("GET", local(link));
        expect(followed.status).toBe(302);
        expect(followed.location).toBe(`${ORIGIN}/?error=new_user_signup_disabled`);
        expect(sessionCookie(followed.cookies)).toBeUndefined();
        expect(await usersWithEmail(gone)).toEqual([]);
      });

      it("allows 5 link requests a minute from one address", async () => {
        const email = "burst@example.com";
        for (let i = 0; i < 5; i++) expect((await requestLink(email)).status).toBe(200);
        expect((await requestLink(email)).status).toBe(429);
      });
    });

    describe("password reset", () => {
      it("mails a link whose token sets a new password once and ends every session", async () => {
        const email = "rosa@example.com";
        await member(email);
        const before = await signIn(email);
        expect(before.status).toBe(200);
        const oldSession = cookieHeader(before.cookies);
        expect(await me(oldSession)).toBe(200);

        const requested = await call("POST", "/api/auth/request-password-reset", { body: { email } });
        expect(requested.status).toBe(200);
        const sent = mails(email, "password-reset");
        expect(sent).toHaveLength(1);
        expect(sent[0]?.text).toContain("expires in 1 hour");
        expect(sent[0]?.text).toContain("If you did not ask for this, ignore this mail");
        const link = linkIn(sent[0]?.text ?? "");
        expect(link.origin).toBe(ORIGIN);
        expect(link.pathname).toBe("/reset-password");
        const token = link.searchParams.get("token") ?? "";
        expect(token).not.toBe("");
        expect(JSON.stringify(await t.db.orm.select().from(authVerification))).not.toContain(token);

        // The link opens Sonde's page; its form posts the new password back to it.
        const page = await call("GET", local(link));
        expect(page.status).toBe(200);
        expect(page.raw).toContain('<form method="post" action="/reset-password">');
        expect(page.headers["cache-control"]).toBe("no-store");
        const form = (password: string, confirm: string) =>
          call("POST", "/reset-password", {
            raw: new URLSearchParams({ token, password, confirm }).toString(),
            contentType: "application/x-www-form-urlencoded",
          });
        const differ = await form(NEW_PASSWORD, "something else entirely");
        expect(differ.status).toBe(422);
        expect(differ.raw).toContain("The two passwords differ.");
        const short = await form("short", "short");
        expect(short.status).toBe(422);
        const reset = await form(NEW_PASSWORD, NEW_PASSWORD);
        expect(reset.status).toBe(200);
        expect(reset.raw).toContain("Your password is set.");
        const replayed = await form("yet another long passphrase", "yet another long passphrase");
        expect(replayed.status).toBe(400);
        expect(replayed.raw).toContain("expired or was used");
        expect((await signIn(email)).status).toBe(401);
        expect((await signIn(email, NEW_PASSWORD)).status).toBe(200);
        expect(await me(oldSession)).toBe(401);

        const reused = await call("POST", "/api/auth/reset-password", {
          body: { token, newPassword: "yet another long passphrase" },
        });
        expect(reused.status).toBe(400);
        expect(reused.json).toMatchObject({ code: "INVALID_TOKEN" });
        expect((await signIn(email, NEW_PASSWORD)).status).toBe(200);
      });

      it("answers an unknown address the same way and mails nothing", async () => {
        const unknown = "nobody-here@example.com";
        const res = await call("POST", "/api/auth/request-password-reset", { body: { email: unknown } });
        expect(res.status).toBe(200);
        expect(res.json).toMatchObject({ status: true });
        expect(mails(unknown, "password-reset")).toHaveLength(0);
      });
    });

    describe("OIDC", () => {
      /** Starts sign-in at Sonde, logs `user` in at the provider, and brings the redirect back. */
      async function oidcSignIn(user: string): Promise<{ start: Reply; callback: Reply }> {
        const start = await call("POST", "/api/auth/sign-in/social", {
          body: { provider: "oidc", callbackURL: "/" },
        });
        expect(start.status).toBe(200);
        const url = String(start.json.url);
        expect(start.location).toBe(url);
        const { redirectTo } = await op.login(url, user);
        const callback = await call("GET", local(redirectTo), { cookie: cookieHeader(start.cookies) });
        return { start, callback };
      }

      it("signs in an existing user whose verified email the provider names", async () => {
        const userId = await member("ada.oidc@example.com", { password: null });
        const { start, callback } = await oidcSignIn("op-ada");
        const authorize = new URL(String(start.json.url));
        expect(authorize.origin).toBe(op.issuer);
        expect(authorize.searchParams.get("client_id")).toBe(OIDC_CLIENT.clientId);
        expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
        expect(authorize.searchParams.get("redirect_uri")).toBe(OIDC_CLIENT.redirectUris[0]);
        expect(authorize.searchParams.get("scope")?.split(" ")).toEqual(
          expect.arrayContaining(["openid", "email", "profile"]),
        );

        expect(callback.status).toBe(302);
        expect(callback.location).toBe("/");
        expect(sessionCookie(callback.cookies)).toBeDefined();
        const cookie = cookieHeader(callback.cookies);
        expect(await me(cookie)).toBe(200);
        const accounts = await t.db.orm
          .select()
          .from(authAccount)
          .where(and(eq(authAccount.userId, userId), eq(authAccount.providerId, "oidc")));
        expect(accounts.map((a) => a.accountId)).toEqual(["op-ada"]);
        // The provider's access token is stored encrypted: useless at the provider as stored, and
        // the real token once decrypted with SONDE_SECRET.
        const stored = accounts[0]?.accessToken ?? "";
        const issued = await symmetricDecrypt({ key: SECRET, data: stored });
        expect(issued).not.toBe(stored);
        expect(await userinfoStatus(stored)).toBe(401);
        expect(await userinfoStatus(issued)).toBe(200);

        // The second time the linked account is found by the provider's subject.
        const second = await oidcSignIn("op-ada");
        expect(sessionCookie(second.callback.cookies)).toBeDefined();
      });

      it("refuses an email with no Sonde user and creates none", async () => {
        const { callback } = await oidcSignIn("op-nobody");
        expect(callback.status).toBe(302);
        expect(callback.location).toBe(`${ORIGIN}/api/auth/error?error=signup_disabled`);
        expect(sessionCookie(callback.cookies)).toBeUndefined();
        expect(await usersWithEmail("nobody.oidc@example.com")).toEqual([]);
      });

      it("refuses an email the provider has not verified", async () => {
        const userId = await member("grace.oidc@example.com", { password: null });
        const { callback } = await oidcSignIn("op-grace");
        expect(callback.status).toBe(302);
        expect(callback.location).toBe(`${ORIGIN}/api/auth/error?error=account_not_linked`);
        expect(sessionCookie(callback.cookies)).toBeUndefined();
        const accounts = await t.db.orm.select().from(authAccount).where(eq(authAccount.userId, userId));
        expect(accounts).toEqual([]);
      });

      it("refuses a callback without the state cookie of the browser that started it", async () => {
        await member("ada2.oidc@example.com", { password: null });
        const start = await call("POST", "/api/auth/sign-in/social", {
          body: { provider: "oidc", callbackURL: "/" },
        });
        const { redirectTo } = await op.login(String(start.json.url), "op-ada");
        const callback = await call("GET", local(redirectTo));
        expect(callback.status).toBe(302);
        expect(callback.location).toMatch(/\/api\/auth\/error\?error=state_mismatch/);
        expect(sessionCookie(callback.cookies)).toBeUndefined();
      });
    });

    describe("OIDC provider down at start", () => {
      it("turns OIDC sign-in off with an error in the log, and refuses it", async () => {
        const lines: string[] = [];
        const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
        const down = createAuth({
          orm: t.db.orm,
          config: {
            SONDE_SECRET: SECRET,
            SONDE_PUBLIC_URL: ORIGIN,
            PORT: 8080,
            // Loopback port 1: nothing listens, the discovery fetch fails at once.
            SONDE_OIDC_ISSUER: "http://127.0.0.1:1",
            SONDE_OIDC_CLIENT_ID: OIDC_CLIENT.clientId,
            SONDE_OIDC_CLIENT_SECRET: OIDC_CLIENT.clientSecret,
          },
          logger,
          mailer: testMailer().mailer,
        });
        await startSignIn(down, { SONDE_OIDC_ISSUER: "http://127.0.0.1:1" }, logger);
        expect(lines.some((l) => l.includes('"level":50') && l.includes("OIDC sign-in is off"))).toBe(true);
        expect(lines.join("\n")).not.toContain(OIDC_CLIENT.clientSecret);
        const downApp = await mount(down, ORIGIN);
        try {
          const res = await inject(downApp, "POST", "/api/auth/sign-in/social", {
            body: { provider: "oidc", callbackURL: "/" },
          });
          expect(res.status).toBe(404);
          expect(res.json).toMatchObject({ code: "PROVIDER_NOT_FOUND" });
        } finally {
          await downApp.close();
        }
      });
    });

    describe("GitHub and Google", () => {
      it("answer with the provider's authorize URL and client id when configured", async () => {
        const github = await inject(httpsApp, "POST", "/api/auth/sign-in/social", {
          origin: HTTPS_ORIGIN,
          body: { provider: "github", callbackURL: "/" },
        });
        expect(github.status).toBe(200);
        const gh = new URL(String(github.json.url));
        expect(`${gh.origin}${gh.pathname}`).toBe("https://github.com/login/oauth/authorize");
        expect(gh.searchParams.get("client_id")).toBe("gh-client-id");
        expect(gh.searchParams.get("redirect_uri")).toBe(`${HTTPS_ORIGIN}/api/auth/callback/github`);

        const google = await inject(httpsApp, "POST", "/api/auth/sign-in/social", {
          origin: HTTPS_ORIGIN,
          body: { provider: "google", callbackURL: "/" },
        });
        expect(google.status).toBe(200);
        const g = new URL(String(google.json.url));
        expect(`${g.origin}${g.pathname}`).toBe("https://accounts.google.com/o/oauth2/v2/auth");
        expect(g.searchParams.get("client_id")).toBe("google-client-id.apps.googleusercontent.com");
      });

      it("are refused when not configured", async () => {
        for (const provider of ["github", "google"]) {
          const res = await call("POST", "/api/auth/sign-in/social", {
            body: { provider, callbackURL: "/" },
          });
          expect(res.status).toBe(404);
          expect(res.json).toMatchObject({ code: "PROVIDER_NOT_FOUND" });
        }
      });
    });

    describe("sessions, limits and browsers", () => {
      it("logs out everywhere: revoke-sessions ends every session of the user", async () => {
        const email = "two@example.com";
        await member(email);
        const first = cookieHeader((await signIn(email)).cookies);
        const second = cookieHeader((await signIn(email)).cookies);
        expect(first).not.toBe(second);
        expect(await me(first)).toBe(200);
        expect(await me(second)).toBe(200);
        const revoked = await call("POST", "/api/auth/revoke-sessions", { cookie: second, body: {} });
        expect(revoked.status).toBe(200);
        expect(await me(first)).toBe(401);
        expect(await me(second)).toBe(401);
      });

      it("answers the 11th sign-in a minute from one address with 429 on every core, and not another address", async () => {
        const email = "guess@example.com";
        await member(email);
        for (let i = 0; i < 10; i++) {
          expect((await signIn(email, `wrong password ${i}`)).status).toBe(401);
        }
        const limited = await signIn(email, PASSWORD);
        expect(limited.status).toBe(429);
        expect(sessionCookie(limited.cookies)).toBeUndefined();
        // The counter is in the database: another core (another instance on the same database)
        // refuses the same address too.
        const counters = await t.db.orm.select().from(authRateLimit);
        expect(counters.some((c) => c.key.includes(address) && c.count === 10)).toBe(true);
        const otherCore = await inject(httpsApp, "POST", "/api/auth/sign-in/email", {
          address,
          origin: HTTPS_ORIGIN,
          body: { email, password: PASSWORD },
        });
        expect(otherCore.status).toBe(429);
        const elsewhere = await call("POST", "/api/auth/sign-in/email", {
          address: freshAddress(),
          body: { email, password: "wrong again" },
        });
        expect(elsewhere.status).toBe(401);
      });

      it("refuses a state-changing POST from a foreign origin, and redirects to no other site", async () => {
        const email = "csrf@example.com";
        await member(email);
        const cookie = cookieHeader((await signIn(email)).cookies);
        for (const path of ["/api/auth/sign-out", "/api/auth/revoke-sessions"]) {
          const res = await call("POST", path, { cookie, body: {}, origin: "https://evil.example" });
          expect(res.status).toBe(403);
          expect(res.json).toMatchObject({ code: "INVALID_ORIGIN" });
        }
        expect(await me(cookie)).toBe(200);
        // Nor does Sonde redirect a browser to another site after sign-in (open redirect).
        const away = await call("POST", "/api/auth/sign-in/social", {
          body: { provider: "oidc", callbackURL: "https://evil.example/" },
        });
        expect(away.status).toBe(403);
        expect(away.json).toMatchObject({ code: "INVALID_CALLBACK_URL" });
        const link = await call("POST", "/api/auth/sign-in/magic-link", {
          body: { email, callbackURL: "https://evil.example/" },
        });
        expect(link.status).toBe(403);
        expect(mails(email, "magic-link")).toHaveLength(0);
      });

      it("gives no session to a user whose every tenant is suspended, or who is disabled", async () => {
        const [frozen] = await t.db.orm
          .insert(tenants)
          .values({ slug: `frozen-${address.replace(/\./g, "-")}`, name: "Frozen", status: "suspended" })
          .returning({ id: tenants.id });
        const email = "frozen@example.com";
        const userId = await createTestUser(auth, { email, password: PASSWORD });
        await addMembership(t.db.orm, frozen?.id ?? "", userId, "admin");
        const refused = await signIn(email);
        expect(refused.status).toBe(403);
        expect(refused.json).toMatchObject({ message: "your tenant is suspended" });
        expect(sessionCookie(refused.cookies)).toBeUndefined();
        // Every method ends at the same gate: a magic link is mailed but gives no session either.
        expect((await call("POST", "/api/auth/sign-in/magic-link", { body: { email } })).status).toBe(200);
        const link = linkIn(mails(email, "magic-link")[0]?.text ?? "");
        expect(sessionCookie((await call("GET", local(link))).cookies)).toBeUndefined();

        // One active tenant among them is enough to sign in (and the session lands there).
        await addMembership(t.db.orm, f.tenantB, userId, "viewer");
        const allowed = await signIn(email);
        expect(allowed.status).toBe(200);
        const mine = await call("GET", "/api/v2/me", { cookie: cookieHeader(allowed.cookies) });
        expect(mine.json).toMatchObject({ tenant: { id: f.tenantB }, role: "viewer" });

        await t.db.orm.update(authUser).set({ status: "disabled" }).where(eq(authUser.id, userId));
        const disabled = await signIn(email);
        expect(disabled.status).toBe(403);
        expect(disabled.json).toMatchObject({ message: "this account is disabled" });
      });

      it("sets the session cookie HttpOnly, SameSite=Lax, and Secure under an https public URL", async () => {
        const email = "secure@example.com";
        await member(email);
        const plain = sessionCookie((await signIn(email)).cookies) ?? "";
        expect(plain).toMatch(/HttpOnly/i);
        expect(plain).toMatch(/SameSite=Lax/i);
        expect(plain).not.toMatch(/Secure/i);

        const res = await inject(httpsApp, "POST", "/api/auth/sign-in/email", {
          origin: HTTPS_ORIGIN,
          body: { email, password: PASSWORD },
        });
        expect(res.status).toBe(200);
        const secure = sessionCookie(res.cookies) ?? "";
        expect(secure).toMatch(/^__Secure-/);
        expect(secure).toMatch(/; *HttpOnly/i);
        expect(secure).toMatch(/; *SameSite=Lax/i);
        expect(secure).toMatch(/; *Secure/i);
      });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
