/**
 * Sonde's better-auth instance: sessions and sign-in, stored through the drizzle adapter on Sonde's
 * own database (PGlite or PostgreSQL). Sonde writes none of this itself (design principle 4); what it
 * adds is the tenant: memberships and the session's active tenant (resolver.ts in the API layer).
 * API tokens are Sonde's own tenant-scoped resource (resources/api-token.ts), not better-auth's.
 */
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import type { Logger } from "pino";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../../lib/credentials.js";
import type { Config } from "../../platform/config/index.js";
import type { Orm } from "../../platform/db/types.js";
import { authSchema } from "./auth.schema.js";

/** Mounted here by the HTTP layer; better-auth needs it to route and to build its links. */
export const AUTH_BASE_PATH = "/api/auth";

/**
 * The header the HTTP layer sets to the client address Fastify determined (honouring its proxy
 * settings). better-auth reads the address from headers only; pointing it at a header the client
 * cannot set keeps its rate limits from being dodged with a forged `X-Forwarded-For`.
 */
export const CLIENT_IP_HEADER = "x-sonde-client-ip";

export interface AuthOptions {
  readonly orm: Orm;
  readonly config: Pick<Config, "SONDE_SECRET" | "SONDE_PUBLIC_URL" | "PORT">;
  readonly logger: Logger;
}

/** The URL users reach Sonde at: `SONDE_PUBLIC_URL`, or the local listener. */
export function publicUrl(config: Pick<Config, "SONDE_PUBLIC_URL" | "PORT">): string {
  return config.SONDE_PUBLIC_URL ?? `http://localhost:${config.PORT}`;
}

export function createAuth({ orm, config, logger }: AuthOptions) {
  const baseURL = publicUrl(config);
  const secure = baseURL.startsWith("https:");
  const log = logger.child({ component: "auth" });
  return betterAuth({
    appName: "Sonde",
    baseURL,
    basePath: AUTH_BASE_PATH,
    secret: config.SONDE_SECRET,
    // Browser requests that change state must come from Sonde's own origin (CSRF).
    trustedOrigins: [baseURL],
    database: drizzleAdapter(orm, { provider: "pg", schema: authSchema }),
    // Passwords are hashed with scrypt (better-auth's default); sign-up sets the name and password.
    emailAndPassword: {
      enabled: true,
      minPasswordLength: PASSWORD_MIN_LENGTH,
      maxPasswordLength: PASSWORD_MAX_LENGTH,
    },
    user: {
      additionalFields: {
        displayName: { type: "string", required: false },
        // Neither can be set by the user signing up: only admins (status) and the platform do.
        status: { type: "string", required: false, input: false, defaultValue: "active" },
        superUser: { type: "boolean", required: false, input: false, defaultValue: false },
      },
    },
    session: {
      additionalFields: {
        /** The tenant a member of several tenants chose; set by Sonde, never by the client. */
        activeTenantId: { type: "string", required: false, input: false },
      },
    },
    // In-memory counters: per core process, lost on restart. Enough against password guessing from
    // one address; a shared store ("database" + a rateLimit table) can follow with several cores.
    rateLimit: {
      enabled: true,
      storage: "memory",
      window: 60,
      max: 100,
      customRules: {
        "/sign-in/email": { window: 60, max: 10 },
        "/sign-up/email": { window: 60, max: 5 },
      },
    },
    advanced: {
      useSecureCookies: secure,
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure },
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    telemetry: { enabled: false },
    logger: {
      level: "warn",
      log: (level, message) => log[level === "debug" ? "debug" : level](message),
    },
  });
}

export type Auth = ReturnType<typeof createAuth>;
