import { and, asc, eq, gt, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { isSondeError, SondeError } from "../../lib/errors.js";
import { ENVELOPE_PREFIX, type Keyring } from "../../platform/crypto/index.js";
import type { Orm } from "../../platform/db/types.js";
import type { AnyResource } from "../resource/types.js";
import { inScope } from "../tenancy/transaction.js";
import { attributeAad } from "./encryption.js";

export interface ReencryptCount {
  readonly resource: string;
  /** Rows rewritten under the active key. */
  rows: number;
  /** Values (attributes) rewritten. */
  values: number;
  /** Rows written by someone else between read and rewrite: left as they are (run again to move them). */
  changed: number;
  /** Ids of records with a value that does not decrypt (tampered, or under a key that is gone). */
  readonly failed: string[];
}

export interface ReencryptOptions {
  readonly batchSize?: number;
  /** Called after each batch, for progress output. */
  readonly onBatch?: (count: Readonly<ReencryptCount>) => void;
}

type Row = Record<string, unknown>;

/**
 * Moves every encrypted value not yet under the active key to it, for every resource, across tenants
 * (the system role: this is platform work, not a tenant's). Keyset-paged by primary key, one
 * transaction per batch, and each row rewritten only if its values are still the ones read
 * (compare-and-set), so a core writing at the same time is never overwritten. Restartable: values
 * already under the active key are skipped by the query, and a value under an older key still
 * decrypts, so an interrupted run leaves nothing unreadable and the next run finishes the job.
 */
export async function reencryptAll(
  orm: Orm,
  resources: Iterable<AnyResource>,
  keyring: Keyring,
  opts: ReencryptOptions = {},
): Promise<ReencryptCount[]> {
  // Another process may have added keys (a rotation this one has not seen).
  await keyring.reload();
  const counts: ReencryptCount[] = [];
  for (const resource of resources) {
    if (resource.encrypted.size === 0) continue;
    counts.push(await reencryptResource(orm, resource, keyring, opts));
  }
  return counts;
}

async function reencryptResource(
  orm: Orm,
  resource: AnyResource,
  keyring: Keyring,
  opts: ReencryptOptions,
): Promise<ReencryptCount> {
  const size = opts.batchSize ?? 500;
  const pk = column(resource, resource.primaryKey);
  const fields = [...resource.encrypted].map((f) => [f, column(resource, f)] as const);
  const current = `${ENVELOPE_PREFIX}${keyring.activeKeyId}:`;
  const stale = or(...fields.map(([, c]) => sql`(${c} is not null and not starts_with(${c}, ${current}))`));
  const count: ReencryptCount = { resource: resource.name, rows: 0, values: 0, changed: 0, failed: [] };
  let after: unknown;
  for (;;) {
    const last = await inScope(orm, { tenantId: null, bypass: true }, async (tx) => {
      const rows = (await tx
        .select({ __pk: pk, ...Object.fromEntries(fields) })
        .from(resource.table)
        .where(and(stale, after === undefined ? undefined : gt(pk, after)))
        .orderBy(asc(pk))
        .limit(size)) as Row[];
      for (const row of rows) {
        const set: Row = {};
        const unchanged: SQL[] = [];
        try {
          for (const [field, c] of fields) {
            const value = row[field];
            if (typeof value !== "string" || value.startsWith(current)) continue;
            const aad = attributeAad(resource, field);
            set[field] = keyring.encrypt(keyring.decrypt(value, aad), aad);
            unchanged.push(eq(c, value));
          }
        } catch (err) {
          if (!isSondeError(err, "SONDE_DECRYPTION_FAILED")) throw err;
          count.failed.push(String(row.__pk));
          continue;
        }
        if (unchanged.length === 0) continue;
        const done = await tx
          .update(resource.table)
          .set(set)
          .where(and(eq(pk, row.__pk), ...unchanged))
          .returning({ id: pk });
        if (done.length === 0) {
          count.changed++;
        } else {
          count.rows++;
          count.values += unchanged.length;
        }
      }
      return rows.length < size ? undefined : rows.at(-1)?.__pk;
    });
    opts.onBatch?.(count);
    if (last === undefined) return count;
    after = last;
  }
}

function column(resource: AnyResource, field: string): PgColumn {
  const c = resource.columns.get(field);
  if (c === undefined) throw new SondeError("SONDE_INTERNAL", `${resource.name} has no column ${field}`);
  return c;
}
