/**
 * Sonde's better-auth instance: sessions and the sign-in methods (email + password with a confirmed
 * address, magic link, password reset, GitHub, Google and a generic OIDC provider), stored through
 * the drizzle adapter on Sonde's own database (PGlite or PostgreSQL). Sonde writes none of this
 * itself (design principle 4); what it adds is the tenant: memberships and the session's active
 * tenant (resolver.ts in the API layer). API tokens are Sonde's own tenant-scoped resource
 * (resources/api-token.ts), not better-auth's. Sign-up is closed: users come from invitations, the
 * CLI and the first run, and no sign-in method creates one (docs/sign-in.md).
 */
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { APIError } from "better-auth/api";
import { genericOAuth, magicLink } from "better-auth/plugins";
import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../../lib/credentials.js";
import type { Config } from "../../platform/config/index.js";
import type { Orm } from "../../platform/db/types.js";
import type { Mailer } from "../../platform/mail/types.js";
import { signInVerdict } from "./sign-in-gate.js";
import {
  magicLinkMail,
  passwordResetLink,
  passwordResetMail,
  SIGN_IN_LINK_EXPIRY,
  verifyEmailMail,
} from "./mails.js";
import { authSchema, authUser } from "./auth.schema.js";

/** Mounted here by the HTTP layer; better-auth needs it to route and to build its links. */
export const AUTH_BASE_PATH = "/api/auth";

/**
 * The header the HTTP layer sets to the client address Fastify determined (honouring its proxy
 * settings). better-auth reads the address from headers only; pointing it at a header the client
 * cannot set keeps its rate limits from being dodged with a forged `X-Forwarded-For`.
 */
export const CLIENT_IP_HEADER = "x-sonde-client-ip";

/** The providerId of the generic OIDC provider: `POST /api/auth/sign-in/social {"provider":"oidc"}`. */
export const OIDC_PROVIDER_ID = "oidc";

/** The settings of the external sign-in providers; each provider is on only when all of its are set. */
export type SignInProviderConfig = Partial<
  Pick<
    Config,
    | "SONDE_OIDC_ISSUER"
    | "SONDE_OIDC_CLIENT_ID"
    | "SONDE_OIDC_CLIENT_SECRET"
    | "SONDE_OIDC_SCOPES"
    | "SONDE_GITHUB_CLIENT_ID"
    | "SONDE_GITHUB_CLIENT_SECRET"
    | "SONDE_GOOGLE_CLIENT_ID"
    | "SONDE_GOOGLE_CLIENT_SECRET"
  >
>;

export type AuthConfig = Pick<Config, "SONDE_SECRET" | "SONDE_PUBLIC_URL" | "PORT"> & SignInProviderConfig;

export interface AuthOptions {
  readonly orm: Orm;
  readonly config: AuthConfig;
  readonly logger: Logger;
  /** Sends the magic-link, address-confirmation and password-reset mails. */
  readonly mailer: Mailer;
}

/** The URL users reach Sonde at: `SONDE_PUBLIC_URL`, or the local listener. */
export function publicUrl(config: Pick<Config, "SONDE_PUBLIC_URL" | "PORT">): string {
  return config.SONDE_PUBLIC_URL ?? `http://localhost:${config.PORT}`;
}

/** Limits per client address and path, per minute (better-auth keys its counters by both). */
export const SIGN_IN_RATE_LIMITS = {
  "/sign-in/magic-link": { window: 60, max: 5 },
  "/magic-link/verify": { window: 60, max: 5 },
  // Email + password, and the start of GitHub, Google and OIDC sign-in.
  "/sign-in/*": { window: 60, max: 10 },
  "/sign-up/*": { window: 60, max: 5 },
  "/request-password-reset": { window: 60, max: 5 },
  "/reset-password": { window: 60, max: 5 },
  "/reset-password/*": { window: 60, max: 5 },
  "/send-verification-email": { window: 60, max: 5 },
  "/verify-email": { window: 60, max: 5 },
  "/change-password": { window: 60, max: 10 },
  "/change-email": { window: 60, max: 10 },
} as const;

/** Anything else under /api/auth, per client address and path. */
export const DEFAULT_RATE_LIMIT = { window: 60, max: 100 } as const;

/** The external providers that are configured, in better-auth's terms. Sign-up is off for each. */
function socialProviders(config: SignInProviderConfig) {
  // Sign-in only: an unknown email is refused, even when the client asks for sign-up explicitly.
  const closed = { disableImplicitSignUp: true, disableSignUp: true } as const;
  return {
    ...(config.SONDE_GITHUB_CLIENT_ID !== undefined && config.SONDE_GITHUB_CLIENT_SECRET !== undefined
      ? {
          github: {
            clientId: config.SONDE_GITHUB_CLIENT_ID,
            clientSecret: config.SONDE_GITHUB_CLIENT_SECRET,
            ...closed,
          },
        }
      : {}),
    ...(config.SONDE_GOOGLE_CLIENT_ID !== undefined && config.SONDE_GOOGLE_CLIENT_SECRET !== undefined
      ? {
          google: {
            clientId: config.SONDE_GOOGLE_CLIENT_ID,
            clientSecret: config.SONDE_GOOGLE_CLIENT_SECRET,
            ...closed,
          },
        }
      : {}),
  };
}

/** The generic OIDC provider, when its issuer, client id and secret are all set. */
function oidcProviders(config: SignInProviderConfig) {
  const { SONDE_OIDC_ISSUER: issuer, SONDE_OIDC_CLIENT_ID: id, SONDE_OIDC_CLIENT_SECRET: secret } = config;
  if (issuer === undefined || id === undefined || secret === undefined) return [];
  return [
    {
      providerId: OIDC_PROVIDER_ID,
      name: "OIDC",
      discoveryUrl: `${issuer}/.well-known/openid-configuration`,
      clientId: id,
      clientSecret: secret,
      scopes: (config.SONDE_OIDC_SCOPES ?? "openid email profile").split(" "),
      pkce: true,
      // The id_token is checked against the issuer's JWKS, audience and nonce, or sign-in fails.
      requireIdTokenVerification: true,
      // client_secret_basic: the OIDC default for registered clients, and what RFC 6749 requires.
      authentication: "basic" as const,
      disableImplicitSignUp: true,
      disableSignUp: true,
    },
  ];
}

export function createAuth({ orm, config, logger, mailer }: AuthOptions) {
  const baseURL = publicUrl(config);
  const secure = baseURL.startsWith("https:");
  const log = logger.child({ component: "auth" });

  /** Mail goes only to users who exist and may sign in; nobody else learns a link was asked for. */
  async function mayReceive(email: string): Promise<boolean> {
    const [user] = await orm
      .select({ status: authUser.status })
      .from(authUser)
      .where(eq(authUser.email, email.toLowerCase()))
      .limit(1);
    return user?.status === "active";
  }

  return betterAuth({
    appName: "Sonde",
    baseURL,
    basePath: AUTH_BASE_PATH,
    secret: config.SONDE_SECRET,
    // Browser requests that change state must come from Sonde's own origin (CSRF).
    trustedOrigins: [baseURL],
    database: drizzleAdapter(orm, { provider: "pg", schema: authSchema }),
    // Passwords are hashed with scrypt (better-auth's default). Sign-up is closed: users come from
    // invitations, the CLI and the first run. A user signs in only once their address is confirmed.
    emailAndPassword: {
      enabled: true,
      disableSignUp: true,
      requireEmailVerification: true,
      minPasswordLength: PASSWORD_MIN_LENGTH,
      maxPasswordLength: PASSWORD_MAX_LENGTH,
      resetPasswordTokenExpiresIn: SIGN_IN_LINK_EXPIRY.passwordReset,
      // A new password ends every session, including one an attacker may hold.
      revokeSessionsOnPasswordReset: true,
      // The link opens Sonde's own page to choose the password (better-auth's link only redirects).
      sendResetPassword: async ({ user, token }) => {
        if (!(await mayReceive(user.email))) return;
        await mailer.send(passwordResetMail(user.email, passwordResetLink(baseURL, token)));
      },
    },
    emailVerification: {
      // A sign-in with the right password but an unconfirmed address is refused and mails a link.
      sendOnSignIn: true,
      sendOnSignUp: false,
      autoSignInAfterVerification: true,
      expiresIn: SIGN_IN_LINK_EXPIRY.verifyEmail,
      sendVerificationEmail: async ({ user, url }) => {
        await mailer.send(verifyEmailMail(user.email, url));
      },
    },
    // Verification rows (magic links, reset tokens, OAuth state) keep only a SHA-256 of their
    // identifier: a copy of the table holds no working link.
    verification: { storeIdentifier: "hashed" },
    socialProviders: socialProviders(config),
    account: {
      accountLinking: {
        // An existing user signs in with a provider whose *verified* email is theirs (and whose own
        // address is confirmed here). No provider is trusted to skip that check.
        enabled: true,
        trustedProviders: [],
        requireLocalEmailVerified: true,
        allowDifferentEmails: false,
      },
      // Provider access and refresh tokens are stored encrypted with SONDE_SECRET.
      encryptOAuthTokens: true,
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
    databaseHooks: {
      session: {
        create: {
          // Every sign-in method ends here: a disabled user, or one whose every tenant is suspended,
          // gets no session (sign-in-gate.ts).
          before: async (session) => {
            const verdict = await signInVerdict(orm, session.userId);
            if (!verdict.allowed) throw new APIError("FORBIDDEN", { message: verdict.reason });
          },
        },
      },
    },
    // Counters in the `rate_limit` table (model `rateLimit` in authSchema), so that every core process
    // counts the same attempts and a restart forgets none.
    rateLimit: {
      enabled: true,
      storage: "database",
      ...DEFAULT_RATE_LIMIT,
      customRules: SIGN_IN_RATE_LIMITS,
    },
    advanced: {
      // Explicit: better-auth turns both checks off by itself when NODE_ENV=test or TEST is set, and
      // neither an environment variable nor a test run may switch CSRF protection off.
      disableOriginCheck: false,
      disableCSRFCheck: false,
      useSecureCookies: secure,
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure },
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    telemetry: { enabled: false },
    logger: {
      level: "warn",
      log: (level, message) => log[level === "debug" ? "debug" : level](message),
    },
    plugins: [
      magicLink({
        expiresIn: SIGN_IN_LINK_EXPIRY.magicLink,
        // Sign-in only: a link for an unknown address creates nobody.
        disableSignUp: true,
        // The token is stored as its SHA-256; consumed atomically, so a link works once.
        storeToken: "hashed",
        sendMagicLink: async ({ email, url }) => {
          if (!(await mayReceive(email))) return;
          await mailer.send(magicLinkMail(email, url));
        },
      }),
      genericOAuth({ config: oidcProviders(config) }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;

/**
 * At start, before the listener: builds better-auth's context (where the OIDC discovery document is
 * read) and says which sign-in providers are on. A configured OIDC provider whose discovery failed is
 * off until the next start, and that is logged as an error rather than found at the first sign-in.
 */
export async function startSignIn(auth: Auth, config: SignInProviderConfig, logger: Logger): Promise<void> {
  const ctx = await auth.$context;
  const providers = ctx.socialProviders.map((p) => p.id);
  if (config.SONDE_OIDC_ISSUER !== undefined && !providers.includes(OIDC_PROVIDER_ID)) {
    logger.error(
      { issuer: config.SONDE_OIDC_ISSUER },
      "OIDC sign-in is off: the issuer's discovery document could not be read (it is read again at the next start)",
    );
  }
  logger.info({ providers }, "sign-in providers");
}
