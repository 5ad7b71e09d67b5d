import type { Logger } from "pino";
import { Kernel } from "../kernel/kernel.js";
import type { ReencryptCount } from "../kernel/pipeline/reencrypt.js";
import type { ResourceDeclaration } from "../kernel/resource/define.js";
import { SondeError } from "../lib/errors.js";
import type { Config } from "../platform/config/index.js";
import { listKeys, openKeyring } from "../platform/crypto/index.js";
import { type Database, migrationStatus } from "../platform/db/index.js";
import { coreResources } from "../roles/resources.js";
import { openOwnerDatabase } from "./owner-database.js";

export type KeysAction = { action: "list" } | { action: "rotate"; newKey: boolean; batchSize: number };

export interface RotateReport {
  /** The key every value was moved to. */
  readonly activeKeyId: string;
  /** The key that was active before, when a new one was created. */
  readonly retiredKeyId: string | undefined;
  readonly counts: readonly ReencryptCount[];
}

/**
 * Rotation proper: a new active key (unless `newKey` is false), then every encrypted value of every
 * resource moved to it. Runs on the schema owner's connection: only the owner may write keys, and
 * the re-encryption runs as the system role across tenants. Restartable (see Kernel.reencrypt).
 */
export async function rotateKeys(
  db: Database,
  secret: string,
  resources: readonly ResourceDeclaration[],
  opts: { newKey: boolean; batchSize: number; logger: Logger },
): Promise<RotateReport> {
  if (secret === "") {
    throw new SondeError("SONDE_CONFIG_INVALID", "SONDE_SECRET is not set and the data dir holds none");
  }
  const hadKeys = (await listKeys(db.orm)).length > 0;
  // Fails with SONDE_CONFIG_INVALID before anything is written when the secret is not the keys' one.
  const keyring = await openKeyring(db.orm, secret);
  const before = keyring.activeKeyId;
  const rotate = opts.newKey && hadKeys;
  if (rotate) await keyring.rotate();
  opts.logger.info({ activeKey: keyring.activeKeyId, retired: rotate ? before : undefined }, "keys rotated");
  const kernel = new Kernel({ orm: db.orm, resources, logger: opts.logger, keyring });
  const counts = await kernel.reencrypt({
    batchSize: opts.batchSize,
    onBatch: (c) => opts.logger.info({ ...c, failed: c.failed.length }, "re-encrypting"),
  });
  return { activeKeyId: keyring.activeKeyId, retiredKeyId: rotate ? before : undefined, counts };
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `sonde keys list | rotate`: runs as the database owner, apart from any running core. Returns the exit code. */
export async function runKeys(
  what: KeysAction,
  config: Config,
  logger: Logger,
  resources: readonly ResourceDeclaration[] = coreResources,
): Promise<number> {
  const db = await openOwnerDatabase(config, logger, "keys");
  try {
    const pending = (await migrationStatus(db)).filter((m) => !m.applied);
    if (pending.length > 0) {
      process.stderr.write(`sonde: ${pending.length} migration(s) pending: run \`sonde migrate\` first\n`);
      return 1;
    }
    if (what.action === "list") {
      const keys = await listKeys(db.orm);
      if (keys.length === 0) print("keys: none yet (core creates the first one when it starts)");
      for (const k of keys) {
        const retired = k.retiredAt === null ? "-" : k.retiredAt.toISOString();
        print(`${k.id}\t${k.active ? "active" : "retired"}\t${k.createdAt.toISOString()}\t${retired}`);
      }
      return 0;
    }
    const secret = config.SONDE_SECRET;
    const report = await rotateKeys(db, secret, resources, { ...what, logger });
    print(
      report.retiredKeyId === undefined
        ? `keys: ${report.activeKeyId} is active`
        : `keys: ${report.activeKeyId} is active; ${report.retiredKeyId} retired (kept to decrypt older values)`,
    );
    let changed = 0;
    let failed = 0;
    for (const c of report.counts) {
      print(`re-encrypted ${c.resource}: ${c.values} values in ${c.rows} rows`);
      if (c.changed > 0)
        print(`  ${c.changed} rows changed while rotating: run \`sonde keys rotate --no-new-key\``);
      if (c.failed.length > 0) print(`  could not decrypt ${c.resource} ${c.failed.join(", ")}`);
      changed += c.changed;
      failed += c.failed.length;
    }
    const total = report.counts.reduce((n, c) => n + c.values, 0);
    print(
      `keys: re-encrypted ${total} values under ${report.activeKeyId}; ${changed} changed, ${failed} failed`,
    );
    return failed > 0 ? 1 : 0;
  } finally {
    await db.close();
  }
}
