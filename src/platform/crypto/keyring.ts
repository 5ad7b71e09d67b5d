import { randomBytes } from "node:crypto";
import { asc, eq, sql } from "drizzle-orm";
import { SondeError } from "../../lib/errors.js";
import type { Orm } from "../db/types.js";
import { encryptionKeys } from "./crypto.schema.js";
import { decryptionFailed, openValue, parseEnvelope, sealValue } from "./envelope.js";
import { DATA_KEY_BYTES, unwrapKey, wrapKey } from "./wrap.js";

/**
 * Terminology:
 * - data key: 32 random bytes that encrypt attribute values; named by a key id (`k1`, `k2`, …).
 * - active key: the one data key new values are encrypted with. Exactly one at a time.
 * - retired key: a former active key, kept so that values written under it still decrypt.
 * - KEK: the key-encryption key derived from SONDE_SECRET; data keys are stored wrapped under it.
 * - envelope: the stored form of one encrypted value (envelope.ts).
 * - AAD: where the value lives (`<table>.<column>`); a value moved elsewhere does not decrypt.
 */
export interface Keyring {
  /** The key new values are encrypted with. */
  readonly activeKeyId: string;
  encrypt(plaintext: string, aad: string): string;
  /** SONDE_DECRYPTION_FAILED when the envelope is malformed, tampered, misplaced or under an unknown key. */
  decrypt(envelope: string, aad: string): string;
  /** Whether the keyring holds this key (false: another process rotated; `reload()` first). */
  hasKey(keyId: string): boolean;
  /** Creates a new active key, retires the old one (kept for decryption); returns the new key id. */
  rotate(): Promise<string>;
  /** Reads keys created by other processes (a rotation elsewhere). */
  reload(): Promise<void>;
}

export interface KeyInfo {
  readonly id: string;
  readonly active: boolean;
  readonly createdAt: Date;
  readonly retiredAt: Date | null;
}

// An arbitrary constant naming the key-creation lock among the database's advisory locks.
const KEY_LOCK = 7_347_102;

function secretMismatch(keyId: string): SondeError {
  return new SondeError(
    "SONDE_CONFIG_INVALID",
    `SONDE_SECRET does not match the keys in the database (key ${keyId} does not unwrap)`,
  );
}

function sqlState(err: unknown): string | undefined {
  for (let e = err, depth = 0; depth < 3 && typeof e === "object" && e !== null; depth++) {
    if ("code" in e && typeof e.code === "string") return e.code;
    e = "cause" in e ? e.cause : undefined;
  }
  return undefined;
}

/** Turns "the table is missing" and "this role may not …" into errors an operator can act on. */
function explain(err: unknown, doing: "read" | "create"): unknown {
  const state = sqlState(err);
  if (state === "42P01") {
    return new SondeError(
      "SONDE_CONFIG_INVALID",
      "the encryption_keys table is missing: run `sonde migrate`",
      {
        cause: err,
      },
    );
  }
  if (state === "42501") {
    return new SondeError(
      "SONDE_CONFIG_INVALID",
      doing === "read"
        ? "this database role may not read encryption_keys: make it a member of sonde_system"
        : "this database role may not create encryption keys: only the schema owner may " +
            "(core creates the first key through DATABASE_MIGRATION_URL when that is set)",
      { cause: err },
    );
  }
  return err;
}

function nextKeyId(existing: readonly string[]): string {
  const numbers = existing
    .map((id) => /^k(\d+)$/.exec(id)?.[1])
    .map((n) => (n === undefined ? 0 : Number(n)));
  return `k${Math.max(0, ...numbers) + 1}`;
}

class DatabaseKeyring implements Keyring {
  private readonly keys = new Map<string, Buffer>();
  private active: string | undefined;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly secret: string,
  ) {}

  get activeKeyId(): string {
    if (this.active === undefined) throw new SondeError("SONDE_CONFIG_INVALID", "no active encryption key");
    return this.active;
  }

  get size(): number {
    return this.keys.size;
  }

  get hasActiveKey(): boolean {
    return this.active !== undefined;
  }

  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  encrypt(plaintext: string, aad: string): string {
    const id = this.activeKeyId;
    const key = this.keys.get(id);
    if (key === undefined) throw new SondeError("SONDE_INTERNAL", `active key ${id} is not loaded`);
    return sealValue(key, id, plaintext, aad);
  }

  decrypt(envelope: string, aad: string): string {
    const parsed = parseEnvelope(envelope);
    if (parsed === undefined) throw decryptionFailed(undefined, "it is not an encrypted value");
    const key = this.keys.get(parsed.keyId);
    if (key === undefined)
      throw decryptionFailed(parsed.keyId, `key ${parsed.keyId} is not in the keyring`, true);
    return openValue(key, parsed, aad);
  }

  reload(): Promise<void> {
    // Concurrent callers (several reads meeting a new key at once) share one query.
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const rows = await this.orm
      .select({ id: encryptionKeys.id, wrapped: encryptionKeys.wrapped, active: encryptionKeys.active })
      .from(encryptionKeys)
      .orderBy(asc(encryptionKeys.created_at), asc(encryptionKeys.id))
      .catch((err: unknown) => {
        throw explain(err, "read");
      });
    let active: string | undefined;
    for (const row of rows) {
      if (!this.keys.has(row.id)) {
        const key = unwrapKey(this.secret, row.id, row.wrapped);
        if (key === undefined) throw secretMismatch(row.id);
        this.keys.set(row.id, key);
      }
      if (row.active) active = row.id;
    }
    this.active = active;
  }

  /** Under the key lock: checks the secret against every stored key, then adds one (or, first, k1). */
  async addKey(onlyIfNone: boolean): Promise<string | undefined> {
    const id = await this.orm
      .transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${KEY_LOCK})`);
        const rows = await tx
          .select({ id: encryptionKeys.id, wrapped: encryptionKeys.wrapped })
          .from(encryptionKeys);
        if (onlyIfNone && rows.length > 0) return undefined;
        // A key added under another secret could never be unwrapped by the running cores.
        for (const r of rows)
          if (unwrapKey(this.secret, r.id, r.wrapped) === undefined) throw secretMismatch(r.id);
        const next = nextKeyId(rows.map((r) => r.id));
        // Retire first: the partial unique index admits one active key at any moment.
        await tx
          .update(encryptionKeys)
          .set({ active: false, retired_at: sql`now()` })
          .where(eq(encryptionKeys.active, true));
        await tx.insert(encryptionKeys).values({
          id: next,
          wrapped: wrapKey(this.secret, next, randomBytes(DATA_KEY_BYTES)),
          active: true,
        });
        return next;
      })
      .catch((err: unknown) => {
        throw explain(err, "create");
      });
    await this.reload();
    return id;
  }

  async rotate(): Promise<string> {
    const id = await this.addKey(false);
    if (id === undefined) throw new SondeError("SONDE_INTERNAL", "rotation created no key");
    return id;
  }
}

/**
 * Opens the keyring: loads and unwraps every data key, creating the first one when there is none
 * (race-safe: creation takes an advisory lock, so two processes starting together create one key).
 * A SONDE_SECRET other than the one the keys were wrapped with fails here, at start, with
 * SONDE_CONFIG_INVALID. Creating keys needs the schema owner's connection (see docs/encryption.md);
 * with `create: false` a missing key is an error instead.
 */
export async function openKeyring(
  orm: Orm,
  secret: string,
  opts: { create?: boolean } = {},
): Promise<Keyring> {
  if (secret.length < 32)
    throw new SondeError("SONDE_CONFIG_INVALID", "SONDE_SECRET must be at least 32 characters");
  const ring = new DatabaseKeyring(orm, secret);
  await ring.reload();
  if (ring.size === 0 && opts.create !== false) await ring.addKey(true);
  if (ring.size === 0) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      "there is no encryption key yet (the schema owner creates it)",
    );
  }
  // Rotation retires and activates in one transaction, so keys without an active one were edited by hand.
  if (!ring.hasActiveKey) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      "encryption_keys holds keys but none is active (edited by hand?)",
    );
  }
  return ring;
}

/** Every key with its state, oldest first; needs no secret (nothing is unwrapped). */
export async function listKeys(orm: Orm): Promise<KeyInfo[]> {
  const rows = await orm
    .select()
    .from(encryptionKeys)
    .orderBy(asc(encryptionKeys.created_at), asc(encryptionKeys.id))
    .catch((err: unknown) => {
      throw explain(err, "read");
    });
  return rows.map((r) => ({ id: r.id, active: r.active, createdAt: r.created_at, retiredAt: r.retired_at }));
}
