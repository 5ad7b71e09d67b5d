/**
 * The identity resources as core serves them: a freshly migrated database, the kernel with
 * coreResources, a keyring and a dev-mailbox mailer, better-auth, the real actor resolver (with token
 * use counted), and the auth, me, invitation and JSON:API routes on the test HTTP shell. Helpers make
 * tenants, users and memberships directly (as the system) and sign in and mint tokens over HTTP, so
 * that suites test what a client sees. Every JSON:API response is checked against the JSON:API 1.0
 * schema and its media type.
 */
import { eq } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import type { ActorResolver } from "../../src/api/auth/actor.js";
import { invitationRoutes } from "../../src/api/auth/invitation-routes.js";
import { meRoutes } from "../../src/api/auth/me.js";
import { createActorResolver } from "../../src/api/auth/resolver.js";
import { authRoutes } from "../../src/api/auth/routes.js";
import { jsonApiRoutes } from "../../src/api/jsonapi/routes.js";
import { type Auth, createAuth } from "../../src/domains/identity/auth.js";
import { authUser } from "../../src/domains/identity/auth.schema.js";
import { TokenUsage } from "../../src/domains/identity/token-usage.js";
import { createUser } from "../../src/domains/identity/users.js";
import { type Role, systemActor } from "../../src/kernel/actor.js";
import { Kernel } from "../../src/kernel/kernel.js";
import type { JobSender, TenantCache } from "../../src/kernel/services.js";
import type { Bus } from "../../src/platform/bus/types.js";
import { openKeyring } from "../../src/platform/crypto/index.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import { createDevMailboxMailer, DevMailbox } from "../../src/platform/mail/index.js";
import { coreResources } from "../../src/roles/resources.js";
import { type Doc, type ErrorObj, one, type ResourceObj } from "../integration/jsonapi-harness.js";

// The same document accessors as the JSON:API suites: an identity response is a superset of theirs.
export { error, many, one } from "../integration/jsonapi-harness.js";
import { type DatabaseTarget, silentLogger, type TestDatabase } from "./databases.js";
import { testHttpServer } from "./http-server.js";
import { assertJsonApi } from "./jsonapi-schema.js";

export type { Doc, ErrorObj, ResourceObj };

export const PUBLIC_URL = "http://sonde.test:8080";
export const MEDIA = "application/vnd.api+json";
export const PASSWORD = "correct horse battery staple";
const SECRET = "identity-harness-secret-".padEnd(48, "x");

/** How a request authenticates: a session cookie, an API token, or nothing. */
export type Credential = { readonly cookie: string } | { readonly token: string } | undefined;

export interface CallOptions {
  readonly as?: Credential;
  readonly body?: unknown;
  /** `X-Sonde-Tenant`. */
  readonly tenant?: string;
  readonly headers?: Record<string, string>;
  readonly remoteAddress?: string;
}

export interface Res {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly raw: string;
  /** The JSON:API document (checked against the schema), or {} for other bodies. */
  readonly doc: Doc;
  /** Any JSON body (plain JSON routes such as /me), or undefined. */
  readonly json: Record<string, unknown> | undefined;
}

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export interface IdentityHarness {
  readonly app: FastifyInstance;
  readonly t: TestDatabase;
  readonly kernel: Kernel;
  readonly auth: Auth;
  readonly tokenUsage: TokenUsage;
  readonly mailbox: DevMailbox;
  call(method: Method, url: string, opts?: CallOptions): Promise<Res>;
  /** A tenant made by the system actor; returns its id. */
  createTenant(slug: string, attributes?: Record<string, unknown>): Promise<string>;
  /** A user with a verified address and PASSWORD (none with `password: null`); returns the user id. */
  createUser(
    email: string,
    opts?: { superUser?: boolean; name?: string; password?: string | null },
  ): Promise<string>;
  /** A membership made by the system actor in the tenant; returns its id. */
  addMember(tenantId: string, userId: string, role: Role): Promise<string>;
  /** Signs in over HTTP; returns the session credential. */
  signIn(email: string, password?: string): Promise<{ readonly cookie: string }>;
  /** Mints a token over HTTP as `as`; returns its id, the secret and the response. */
  mintToken(
    as: Credential,
    attributes: Record<string, unknown>,
    opts?: { tenant?: string },
  ): Promise<{ id: string; token: string; res: Res }>;
  close(): Promise<void>;
}

let addresses = 0;
/** better-auth's sign-in rate limit counts per address: each sign-in comes from an address of its own. */
export function freshAddress(): string {
  addresses += 1;
  return `10.${(addresses >> 16) & 255}.${(addresses >> 8) & 255}.${addresses & 255}`;
}

/** What a suite may add to the harness. */
export interface IdentityHarnessOptions {
  /** The DIRE identity cache actions invalidate after commit (a spy, in inventory suites). */
  readonly identityCache?: TenantCache;
  /** The job sender actions enqueue through after commit (integration syncs). */
  readonly jobs?: JobSender;
  /** The bus actions reach after commit (poller actions write the sonde-control bucket). */
  readonly bus?: Bus;
  /** More routes on the same kernel, registered before the app is ready. */
  readonly routes?: (deps: {
    readonly app: FastifyInstance;
    readonly kernel: Kernel;
    readonly resolveActor: ActorResolver;
    readonly t: TestDatabase;
  }) => Promise<void>;
}

export async function openIdentityHarness(
  target: DatabaseTarget,
  opts: IdentityHarnessOptions = {},
): Promise<IdentityHarness> {
  const t = await target.open();
  await migrateUp(t.db);
  const keyring = await openKeyring(t.db.orm, SECRET);
  const mailbox = new DevMailbox();
  const mailer = createDevMailboxMailer({
    from: { address: "sonde@sonde.test" },
    logger: silentLogger,
    mailbox,
  });
  const kernel = new Kernel({
    orm: t.db.orm,
    resources: coreResources,
    logger: silentLogger,
    keyring,
    services: {
      mailer,
      publicUrl: PUBLIC_URL,
      ...(opts.identityCache !== undefined ? { identityCache: opts.identityCache } : {}),
      ...(opts.jobs !== undefined ? { jobs: opts.jobs } : {}),
      ...(opts.bus !== undefined ? { bus: opts.bus } : {}),
    },
  });
  const auth = createAuth({
    orm: t.db.orm,
    config: { SONDE_SECRET: SECRET, SONDE_PUBLIC_URL: PUBLIC_URL, PORT: 8080 },
    logger: silentLogger,
    mailer,
  });
  const tokenUsage = new TokenUsage(t.db.orm, silentLogger);
  const resolveActor = createActorResolver({ auth, orm: t.db.orm, logger: silentLogger, tokenUsage });
  const app = await testHttpServer();
  await app.register(authRoutes, { auth, publicUrl: PUBLIC_URL });
  await app.register(meRoutes, { prefix: "/api/v2", orm: t.db.orm, auth, resolveActor });
  await app.register(invitationRoutes, { orm: t.db.orm, auth, kernel });
  await app.register(jsonApiRoutes, { prefix: "/api/v2", kernel, resolveActor });
  await opts.routes?.({ app, kernel, resolveActor, t });
  await app.ready();
  const system = systemActor("identity-harness");

  async function call(method: Method, url: string, opts: CallOptions = {}): Promise<Res> {
    const headers: Record<string, string> = { accept: `${MEDIA}, application/json, text/html` };
    const as = opts.as;
    if (as !== undefined && "cookie" in as) headers.cookie = as.cookie;
    if (as !== undefined && "token" in as) headers.authorization = `Bearer ${as.token}`;
    if (opts.tenant !== undefined) headers["x-sonde-tenant"] = opts.tenant;
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      headers["content-type"] = url.startsWith("/api/v2/") && !isPlainJson(url) ? MEDIA : "application/json";
    }
    Object.assign(headers, opts.headers ?? {});
    const res = await app.inject({
      method,
      url,
      headers,
      ...(opts.remoteAddress !== undefined ? { remoteAddress: opts.remoteAddress } : {}),
      ...(payload !== undefined ? { payload } : {}),
    });
    const type = String(res.headers["content-type"] ?? "");
    let doc: Doc = {};
    let json: Record<string, unknown> | undefined;
    if (type === MEDIA) {
      doc = JSON.parse(res.body) as Doc;
      assertJsonApi(doc);
      json = doc as Record<string, unknown>;
    } else if (type.startsWith("application/json") && res.body !== "") {
      json = JSON.parse(res.body) as Record<string, unknown>;
      doc = json as Doc;
    }
    return { status: res.statusCode, headers: res.headers, raw: res.body, doc, json };
  }

  return {
    app,
    t,
    kernel,
    auth,
    tokenUsage,
    mailbox,
    call,
    async createTenant(slug, attributes = {}) {
      const rec = await kernel.create(
        kernel.resource("tenant"),
        { actor: system },
        { slug, name: slug, ...attributes },
      );
      return String(rec.id);
    },
    async createUser(email, opts = {}) {
      const id = await createUser(auth, {
        email,
        name: opts.name ?? email.split("@")[0] ?? email,
        ...(opts.password !== null ? { password: opts.password ?? PASSWORD } : {}),
        emailVerified: true,
      });
      if (opts.superUser === true) {
        await t.db.orm.update(authUser).set({ superUser: true }).where(eq(authUser.id, id));
      }
      return id;
    },
    async addMember(tenantId, userId, role) {
      const rec = await kernel.create(
        kernel.resource("membership"),
        { actor: system, tenantId },
        { user_id: userId, role },
      );
      return String(rec.id);
    },
    async signIn(email, password = PASSWORD) {
      const res = await app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        headers: { origin: PUBLIC_URL, "content-type": "application/json" },
        remoteAddress: freshAddress(),
        payload: JSON.stringify({ email, password }),
      });
      if (res.statusCode !== 200) throw new Error(`sign-in of ${email}: ${res.statusCode} ${res.body}`);
      const raw = res.headers["set-cookie"];
      const cookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
      return { cookie: cookies.map((c) => c.split(";")[0]).join("; ") };
    },
    async mintToken(as, attributes, opts = {}) {
      const res = await call("POST", "/api/v2/api-tokens", {
        as,
        ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
        body: { data: { type: "api-tokens", attributes } },
      });
      const token = res.doc.meta?.token;
      if (res.status !== 201 || typeof token !== "string") {
        throw new Error(`minting a token: ${res.status} ${res.raw}`);
      }
      return { id: one(res).id, token, res };
    },
    async close() {
      await tokenUsage.stop();
      await app.close();
      await t.dispose();
    },
  };
}

/** Routes under /api/v2 that speak plain JSON rather than JSON:API. */
function isPlainJson(url: string): boolean {
  const path = url.split("?")[0];
  return path === "/api/v2/me" || path === "/api/v2/me/tenant" || path === "/api/v2/invitations/accept";
}

/** A JSON:API document with attributes (create, or update when `id` is given). */
export function doc(type: string, attributes: Record<string, unknown>, id?: string): unknown {
  return { data: { type, ...(id !== undefined ? { id } : {}), attributes } };
}
