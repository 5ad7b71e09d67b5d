/**
 * First run: on an empty database, the tenant `default` and a super user who administers it, so that
 * a fresh install has someone who can sign in (with SONDE_ADMIN_PASSWORD or a generated password
 * printed once) and, with SONDE_ADMIN_TOKEN, automation that needs no browser.
 *
 * Race-safe: the work runs in one transaction under an advisory lock, as `sonde_system` (the explicit
 * cross-tenant role, which may write better-auth's tables and any tenant's memberships), and checks
 * again under the lock; two cores starting together create one tenant and one user. better-auth does
 * the user's, the password's and the token's writes itself, through an instance bound to that
 * transaction, so a crash leaves nothing half made and no password printed for a user that is not there.
 */
import { randomBytes } from "node:crypto";
import { asc, eq, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { tenants } from "../../kernel/kernel.schema.js";
import { inScope, type Tx } from "../../kernel/tenancy/transaction.js";

import type { Config } from "../../platform/config/index.js";
import type { Orm } from "../../platform/db/types.js";
import { noMailer } from "../../platform/mail/no-mail.js";
import { type Auth, createAuth } from "./auth.js";
import { authUser, memberships } from "./auth.schema.js";
import { passwordBox } from "./bootstrap-box.js";
import { apiTokens } from "./identity.schema.js";
import { hashSecret, TOKEN_SHOWN_LENGTH } from "./secrets.js";

/** The tenant a fresh install starts with. */
export const DEFAULT_TENANT = { slug: "default", name: "Default" } as const;

/** The transaction-bound instance below has nothing to mail; a send from it would be a bug. */
const NO_MAIL = noMailer("the first-run auth instance");

/** Names the first-run lock among the database's advisory locks (arbitrary, distinct constant). */
const FIRST_RUN_LOCK = 0x534f4e4401;

export type BootstrapConfig = Pick<
  Config,
  | "SONDE_SECRET"
  | "SONDE_PUBLIC_URL"
  | "PORT"
  | "SONDE_ADMIN_EMAIL"
  | "SONDE_ADMIN_PASSWORD"
  | "SONDE_ADMIN_TOKEN"
>;

export interface BootstrapOptions {
  readonly orm: Orm;
  readonly auth: Auth;
  readonly config: BootstrapConfig;
  readonly logger: Logger;
  /**
   * Where a generated password goes: straight to the terminal, never through the logger, whose
   * lines may be shipped elsewhere. Default: stdout.
   */
  readonly print?: (text: string) => void;
}

export interface BootstrapResult {
  readonly createdTenant: boolean;
  /** The super user created by this run; undefined when the database already had users. */
  readonly createdUserId: string | undefined;
}

/** 24 characters of base64url: 144 bits, past any guessing. */
function generatePassword(): string {
  return randomBytes(18).toString("base64url");
}

async function exists(orm: Orm): Promise<{ user: boolean; tenant: boolean }> {
  return inScope(orm, { tenantId: null, bypass: true }, async (tx) => {
    const [user] = await tx.select({ id: authUser.id }).from(authUser).limit(1);
    const [tenant] = await tx.select({ id: tenants.id }).from(tenants).limit(1);
    return { user: user !== undefined, tenant: tenant !== undefined };
  });
}

/** Creates `default` when there is no tenant; returns whether it did. Under the first-run lock. */
async function ensureTenant(tx: Tx): Promise<boolean> {
  const [any] = await tx.select({ id: tenants.id }).from(tenants).limit(1);
  if (any !== undefined) return false;
  // on conflict: a tenant created by a path that does not take this lock must not fail the start.
  const inserted = await tx
    .insert(tenants)
    .values(DEFAULT_TENANT)
    .onConflictDoNothing({ target: tenants.slug })
    .returning({ id: tenants.id });
  return inserted.length > 0;
}

/** The tenant the first super user administers: `default`, or the oldest if someone renamed it away. */
async function adminTenant(tx: Tx): Promise<string> {
  const [named] = await tx
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.slug, DEFAULT_TENANT.slug));
  if (named !== undefined) return named.id;
  const [oldest] = await tx
    .select({ id: tenants.id })
    .from(tenants)
    .orderBy(asc(tenants.created_at))
    .limit(1);
  if (oldest === undefined) throw new Error("first run: no tenant after creating one");
  return oldest.id;
}

/** Creates the super user, their admin membership and (optionally) their API token, in `tx`. */
async function createSuperUser(tx: Tx, options: BootstrapOptions, passwordHash: string): Promise<string> {
  const { config, logger } = options;
  const token = config.SONDE_ADMIN_TOKEN;
  // A better-auth instance on this transaction: its writes commit or roll back with ours. It only
  // writes the user and the password: no sign-in provider (whose discovery would fetch over the
  // network inside this transaction) and no mail.
  const txAuth = createAuth({
    orm: tx,
    config: {
      SONDE_SECRET: config.SONDE_SECRET,
      SONDE_PUBLIC_URL: config.SONDE_PUBLIC_URL,
      PORT: config.PORT,
    },
    logger,
    mailer: NO_MAIL,
  });
  const ctx = await txAuth.$context;
  const user = await ctx.internalAdapter.createUser(
    // Verified: the operator configured this address, and sign-in requires a confirmed one.
    { email: config.SONDE_ADMIN_EMAIL, name: "Administrator", emailVerified: true },
    { method: "email-password" },
  );
  await ctx.internalAdapter.linkAccount({
    userId: user.id,
    providerId: "credential",
    accountId: user.id,
    password: passwordHash,
  });
  // `superUser` is `input: false` to better-auth: only the platform sets it, here.
  await tx.update(authUser).set({ superUser: true }).where(eq(authUser.id, user.id));
  const tenantId = await adminTenant(tx);
  await tx
    .insert(memberships)
    .values({ tenant_id: tenantId, user_id: user.id, role: "admin" })
    .onConflictDoUpdate({ target: [memberships.tenant_id, memberships.user_id], set: { role: "admin" } });
  if (token !== undefined) {
    // Stored like every API token (resources/api-token.ts): its SHA-256 and the shown prefix only.
    await tx.insert(apiTokens).values({
      tenant_id: tenantId,
      user_id: user.id,
      name: "SONDE_ADMIN_TOKEN",
      prefix: token.slice(0, TOKEN_SHOWN_LENGTH),
      token_hash: hashSecret(token),
      scope: "admin",
    });
  }
  return user.id;
}

/** A later start with SONDE_ADMIN_TOKEN set: say so when it is not the registered token. */
async function warnIfTokenIgnored(orm: Orm, token: string, logger: Logger): Promise<void> {
  const hashed = hashSecret(token);
  const [row] = await inScope(orm, { tenantId: null, bypass: true }, (tx) =>
    tx.select({ id: apiTokens.id }).from(apiTokens).where(eq(apiTokens.token_hash, hashed)).limit(1),
  );
  if (row === undefined) {
    logger.warn(
      "SONDE_ADMIN_TOKEN was ignored: it is registered only on first run, and this database already has users",
    );
  }
}

/**
 * Runs at every core start, after migrations; does something only on an empty database. Returns what
 * it created. The generated password (if any) is printed after the commit, once.
 */
export async function bootstrapFirstRun(options: BootstrapOptions): Promise<BootstrapResult> {
  const { orm, auth, config, logger } = options;
  const before = await exists(orm);
  if (before.user && before.tenant) {
    if (config.SONDE_ADMIN_TOKEN !== undefined)
      await warnIfTokenIgnored(orm, config.SONDE_ADMIN_TOKEN, logger);
    return { createdTenant: false, createdUserId: undefined };
  }

  const generated = config.SONDE_ADMIN_PASSWORD === undefined ? generatePassword() : undefined;
  const password = config.SONDE_ADMIN_PASSWORD ?? generated ?? "";
  // Hashed before the lock (scrypt takes a while), by better-auth, so that sign-in can verify it.
  const passwordHash = before.user ? undefined : await (await auth.$context).password.hash(password);

  const result = await inScope(orm, { tenantId: null, bypass: true }, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_RUN_LOCK})`);
    const createdTenant = await ensureTenant(tx);
    const [someone] = await tx.select({ id: authUser.id }).from(authUser).limit(1);
    // Another core got here first (or users exist already): the super user is theirs to make.
    if (someone !== undefined || passwordHash === undefined)
      return { createdTenant, createdUserId: undefined };
    return { createdTenant, createdUserId: await createSuperUser(tx, options, passwordHash) };
  });

  if (result.createdTenant) logger.info({ tenant: DEFAULT_TENANT.slug }, "first run: tenant created");
  if (result.createdUserId !== undefined) {
    logger.info(
      {
        email: config.SONDE_ADMIN_EMAIL,
        userId: result.createdUserId,
        passwordSource: generated !== undefined ? "generated" : "SONDE_ADMIN_PASSWORD",
        apiToken: config.SONDE_ADMIN_TOKEN !== undefined ? "SONDE_ADMIN_TOKEN" : "none",
      },
      "first run: super user created",
    );
    if (generated !== undefined) {
      const print = options.print ?? ((text: string) => void process.stdout.write(text));
      print(passwordBox(config.SONDE_ADMIN_EMAIL, generated));
    }
  } else if (config.SONDE_ADMIN_TOKEN !== undefined) {
    await warnIfTokenIgnored(orm, config.SONDE_ADMIN_TOKEN, logger);
  }
  return result;
}
