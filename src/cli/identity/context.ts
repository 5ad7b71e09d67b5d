import pino, { type Logger } from "pino";
import pretty from "pino-pretty";
import { type Auth, createAuth } from "../../domains/identity/auth.js";
import { tenantResource } from "../../domains/identity/resources/index.js";
import { type SystemActor, systemActor } from "../../kernel/actor.js";
import { Kernel, type ListQuery, type Rec } from "../../kernel/kernel.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { SondeError } from "../../lib/errors.js";
import type { Config } from "../../platform/config/index.js";
import { openKeyring } from "../../platform/crypto/index.js";
import { noMailer } from "../../platform/mail/no-mail.js";
import { migrationStatus, type Orm } from "../../platform/db/index.js";
import { createLogger } from "../../platform/log/logger.js";
import { coreResources } from "../../roles/resources.js";
import { openOwnerDatabase } from "../owner-database.js";

/** What every identity command works with: the kernel, better-auth, and the system actor "cli". */
export interface IdentityContext {
  readonly kernel: Kernel;
  readonly auth: Auth;
  readonly actor: SystemActor;
  readonly logger: Logger;
  /** The owner's connection, for identity's own lookups that are not kernel reads (members.ts). */
  readonly orm: Orm;
}

/** A tenant as the commands need it, resolved by slug. */
export interface TenantRef {
  readonly id: string;
  readonly slug: string;
}

/** Raised when the command must stop with a one-line message and no error code (as `sonde keys` does). */
export class CliRefusal extends Error {}

/**
 * Logs go to stderr for these commands: stdout carries their output alone, so that `--json` output
 * can be piped into a parser (the role commands keep logging to stdout).
 */
export function cliLogger(config: Config, name: string): Logger {
  const usePretty =
    config.LOG_FORMAT === "pretty" || (config.LOG_FORMAT === "auto" && process.stderr.isTTY === true);
  const destination = usePretty
    ? pretty({ colorize: true, translateTime: "HH:MM:ss.l", ignore: "pid,hostname", destination: 2 })
    : // sync: the process may exit right after an error line; nothing logged may be lost.
      pino.destination({ dest: 2, sync: true });
  return createLogger({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    name,
    node: config.SONDE_NODE_NAME,
    destination,
  });
}

/**
 * Opens the database as its schema owner (DATABASE_MIGRATION_URL when set, as `sonde migrate` and
 * `sonde keys` do): better-auth's tables, which hold the user rows, are the owner's only, and the
 * first encryption key can be created only by the owner. Refuses while migrations are pending. The
 * embedded data dir is locked for as long as the command runs, so a running `sonde start` on it
 * refuses the command (SONDE_CONFIG_INVALID, naming the pid) rather than corrupting the files.
 */
export async function withIdentity<T>(
  config: Config,
  logger: Logger,
  fn: (ctx: IdentityContext) => Promise<T>,
): Promise<T> {
  const db = await openOwnerDatabase(config, logger, "cli");
  try {
    const pending = (await migrationStatus(db)).filter((m) => !m.applied);
    if (pending.length > 0) {
      throw new CliRefusal(`${pending.length} migration(s) pending: run \`sonde migrate\` first`);
    }
    if (config.SONDE_SECRET === "") {
      // Never generated here: a new secret could not unwrap the keys that protect stored values.
      throw new SondeError(
        "SONDE_CONFIG_INVALID",
        "SONDE_SECRET is not set and the data dir holds none (`sonde migrate` or `sonde start` creates it)",
      );
    }
    // On a database core never started there is no key yet: this, the owner's connection, creates k1
    // with the same secret core will use. A wrong secret fails here, before anything is written.
    const keyring = await openKeyring(db.orm, config.SONDE_SECRET);
    // No outbox relay here: events of these writes wait in the outbox until a core relays them.
    const kernel = new Kernel({ orm: db.orm, resources: coreResources, logger, keyring });
    // Only what creating users needs: no sign-in providers (no discovery fetch), no mail.
    const auth = createAuth({
      orm: db.orm,
      config: {
        SONDE_SECRET: config.SONDE_SECRET,
        SONDE_PUBLIC_URL: config.SONDE_PUBLIC_URL,
        PORT: config.PORT,
      },
      logger,
      mailer: noMailer("the command line"),
    });
    return await fn({ kernel, auth, actor: systemActor("cli"), logger, orm: db.orm });
  } finally {
    await db.close();
  }
}

/** Every record a list query matches, page after page (the kernel caps one page at 1000). */
export async function listAll(
  ctx: IdentityContext,
  resource: AnyResource,
  tenantId: string | null,
  query: Omit<ListQuery, "page"> = {},
): Promise<Rec[]> {
  const out: Rec[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await ctx.kernel.list(
      resource,
      { actor: ctx.actor, tenantId },
      { ...query, page: { size: 1000, ...(after !== undefined ? { after } : {}) } },
    );
    out.push(...page.records);
    if (page.nextCursor === null) return out;
    after = page.nextCursor;
  }
}

/** The tenant with this slug, read through the kernel as the system actor across tenants. */
export async function resolveTenant(ctx: IdentityContext, slug: string): Promise<TenantRef> {
  const { records } = await ctx.kernel.list(
    ctx.kernel.resource(tenantResource.name),
    { actor: ctx.actor, tenantId: null },
    { filter: { field: "slug", op: "eq", value: slug } },
  );
  const found = records[0];
  if (found === undefined) throw new SondeError("SONDE_NOT_FOUND", `no tenant ${slug}`);
  return { id: String(found.id), slug: String(found.slug) };
}
