/**
 * First run on an empty database: the tenant `default`, a super user who signs in with the printed
 * (or configured) password, and SONDE_ADMIN_TOKEN working as their admin API token; nothing on later
 * starts, and one of each when two cores start together.
 */
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { meRoutes } from "../../src/api/auth/me.js";
import { createActorResolver } from "../../src/api/auth/resolver.js";
import { authRoutes } from "../../src/api/auth/routes.js";
import { testHttpServer } from "../support/http-server.js";
import { type Auth, createAuth } from "../../src/domains/identity/auth.js";
import { authUser, memberships } from "../../src/domains/identity/auth.schema.js";
import { apiTokens } from "../../src/domains/identity/identity.schema.js";
import { type BootstrapConfig, bootstrapFirstRun } from "../../src/domains/identity/bootstrap.js";
import { tenants } from "../../src/kernel/kernel.schema.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import type { Orm } from "../../src/platform/db/types.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { serviceGate } from "../support/services.js";
import { testMailer } from "../support/auth.js";

const ORIGIN = "http://localhost:8080";
const TOKEN = `sonde_${"t".repeat(40)}`;
const BASE: BootstrapConfig = {
  SONDE_SECRET: "s".repeat(40),
  SONDE_PUBLIC_URL: ORIGIN,
  PORT: 8080,
  SONDE_ADMIN_EMAIL: "admin@sonde.localhost",
  SONDE_ADMIN_PASSWORD: undefined,
  SONDE_ADMIN_TOKEN: undefined,
};

/** A logger whose every line is kept, to prove what was (not) logged. */
function capturingLogger() {
  const lines: string[] = [];
  const logger = pino({ level: "trace" }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

function capturingPrint() {
  const printed: string[] = [];
  return { print: (text: string) => void printed.push(text), printed };
}

async function counts(orm: Orm) {
  const users = await orm.select({ id: authUser.id, superUser: authUser.superUser }).from(authUser);
  const tenantRows = await orm.select({ slug: tenants.slug, name: tenants.name }).from(tenants);
  return { users, tenants: tenantRows };
}

function suite(target: DatabaseTarget) {
  describe(`first run: ${target.name}`, () => {
    let t: TestDatabase;
    let auth: Auth;
    let app: FastifyInstance;

    beforeAll(async () => {
      t = await target.open();
      await migrateUp(t.db);
      auth = createAuth({ orm: t.db.orm, config: BASE, logger: silentLogger, mailer: testMailer().mailer });
      const resolveActor = createActorResolver({ auth, orm: t.db.orm, logger: silentLogger });
      app = await testHttpServer();
      await app.register(authRoutes, { auth, publicUrl: ORIGIN });
      await app.register(meRoutes, { prefix: "/api/v2", orm: t.db.orm, auth, resolveActor });
      await app.ready();
    });
    afterAll(async () => {
      await app?.close();
      await t?.dispose();
    });

    it("creates tenant default and a super user whose printed password and token work", async () => {
      const log = capturingLogger();
      const out = capturingPrint();
      const config = { ...BASE, SONDE_ADMIN_TOKEN: TOKEN };
      const result = await bootstrapFirstRun({ orm: t.db.orm, auth, config, logger: log.logger, ...out });
      expect(result.createdTenant).toBe(true);
      expect(result.createdUserId).toBeDefined();

      const state = await counts(t.db.orm);
      expect(state.tenants).toEqual([{ slug: "default", name: "Default" }]);
      expect(state.users).toEqual([{ id: result.createdUserId, superUser: true }]);
      const [member] = await t.db.orm.select({ role: memberships.role }).from(memberships);
      expect(member).toEqual({ role: "admin" });

      // The token is stored as its SHA-256 with a shown prefix, never in the clear.
      const [key] = await t.db.orm.select().from(apiTokens);
      expect(key?.token_hash).toBe(createHash("sha256").update(TOKEN).digest("hex"));
      expect(JSON.stringify(key)).not.toContain(TOKEN);
      expect(key?.prefix).toBe(TOKEN.slice(0, 12));
      expect(key?.scope).toBe("admin");
      const me = await app.inject({
        method: "GET",
        url: "/api/v2/me",
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({
        user: { email: "admin@sonde.localhost", super_user: true },
        tenant: { slug: "default" },
        role: "admin",
        scopes: ["admin"],
      });

      // The password is printed once, in the box, and appears in no log line.
      expect(out.printed).toHaveLength(1);
      const password = /password: (\S+)/.exec(out.printed[0] ?? "")?.[1];
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(out.printed[0]).toContain("┌");
      expect(log.lines.some((l) => l.includes("first run: super user created"))).toBe(true);
      expect(log.lines.join("\n")).not.toContain(password);
      expect(log.lines.join("\n")).not.toContain(TOKEN);

      const signIn = await app.inject({
        method: "POST",
        url: "/api/auth/sign-in/email",
        headers: { origin: ORIGIN, "content-type": "application/json" },
        remoteAddress: target.name === "embedded" ? "10.1.0.1" : "10.1.0.2",
        payload: JSON.stringify({ email: "admin@sonde.localhost", password }),
      });
      expect(signIn.statusCode).toBe(200);
    });

    it("does nothing and prints nothing on a later start; warns about a token it did not register", async () => {
      const before = await counts(t.db.orm);
      const out = capturingPrint();
      const same = capturingLogger();
      const again = { ...BASE, SONDE_ADMIN_TOKEN: TOKEN, SONDE_ADMIN_PASSWORD: "another password!" };
      const result = await bootstrapFirstRun({
        orm: t.db.orm,
        auth,
        config: again,
        logger: same.logger,
        ...out,
      });
      expect(result).toEqual({ createdTenant: false, createdUserId: undefined });
      expect(await counts(t.db.orm)).toEqual(before);
      expect(out.printed).toEqual([]);
      expect(same.lines.join("")).not.toContain("ignored");

      const other = capturingLogger();
      const config = { ...BASE, SONDE_ADMIN_TOKEN: `sonde_${"u".repeat(40)}` };
      await bootstrapFirstRun({ orm: t.db.orm, auth, config, logger: other.logger, ...out });
      expect(other.lines.join("")).toContain("SONDE_ADMIN_TOKEN was ignored");
      expect(out.printed).toEqual([]);
      expect(await t.db.orm.select({ id: apiTokens.id }).from(apiTokens)).toHaveLength(1);
    });

    it("creates one tenant and one user when two cores start at once", async () => {
      const fresh = await target.open();
      try {
        await migrateUp(fresh.db);
        const config = { ...BASE, SONDE_ADMIN_PASSWORD: "chosen by the operator" };
        const freshAuth = createAuth({
          orm: fresh.db.orm,
          config,
          logger: silentLogger,
          mailer: testMailer().mailer,
        });
        const out = capturingPrint();
        const run = () =>
          bootstrapFirstRun({ orm: fresh.db.orm, auth: freshAuth, config, logger: silentLogger, ...out });
        const results = await Promise.all([run(), run()]);
        expect(results.filter((r) => r.createdUserId !== undefined)).toHaveLength(1);
        expect(results.filter((r) => r.createdTenant)).toHaveLength(1);
        const state = await counts(fresh.db.orm);
        expect(state.users).toHaveLength(1);
        expect(state.tenants).toHaveLength(1);
        // A configured password is never printed.
        expect(out.printed).toEqual([]);
        const [user] = await fresh.db.orm
          .select({ email: authUser.email })
          .from(authUser)
          .where(eq(authUser.superUser, true));
        expect(user).toEqual({ email: "admin@sonde.localhost" });
      } finally {
        await fresh.dispose();
      }
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
