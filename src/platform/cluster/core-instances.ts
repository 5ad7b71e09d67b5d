import { randomBytes } from "node:crypto";
import { eq, lt } from "drizzle-orm";
import type { Logger } from "pino";
import { coreInstances } from "../db/platform.schema.js";
import type { Database } from "../db/types.js";

/** How often a core instance refreshes its row, and when a silent one counts as gone. */
export const CORE_HEARTBEAT_MS = 15_000;
export const CORE_STALE_AFTER_MS = 4 * CORE_HEARTBEAT_MS;

export interface CoreInstanceInfo {
  readonly node: string;
  readonly version: string;
  readonly roles: readonly string[];
}

export interface CoreInstanceHandle {
  readonly id: string;
  stop(): Promise<void>;
}

/**
 * Registers this process in `core_instances` and keeps its heartbeat fresh until stopped; the row is
 * removed on a clean stop, and the prune job removes rows of processes that died without one.
 */
export async function registerCoreInstance(
  db: Database,
  info: CoreInstanceInfo,
  logger: Logger,
  heartbeatMs = CORE_HEARTBEAT_MS,
): Promise<CoreInstanceHandle> {
  const id = `${info.node}-${process.pid}-${randomBytes(3).toString("hex")}`;
  await db.orm
    .insert(coreInstances)
    .values({ id, node: info.node, version: info.version, roles: [...info.roles] });
  const timer = setInterval(() => {
    db.orm
      .update(coreInstances)
      .set({ heartbeatAt: new Date() })
      .where(eq(coreInstances.id, id))
      .catch((err: unknown) => logger.warn({ err }, "core heartbeat failed"));
  }, heartbeatMs);
  timer.unref();
  return {
    id,
    async stop() {
      clearInterval(timer);
      await db.orm.delete(coreInstances).where(eq(coreInstances.id, id));
    },
  };
}

/** Deletes instances whose heartbeat is older than `staleAfterMs`; returns how many. */
export async function pruneStaleCoreInstances(
  db: Database,
  staleAfterMs = CORE_STALE_AFTER_MS,
): Promise<number> {
  const cutoff = new Date(Date.now() - staleAfterMs);
  const removed = await db.orm
    .delete(coreInstances)
    .where(lt(coreInstances.heartbeatAt, cutoff))
    .returning({ id: coreInstances.id });
  return removed.length;
}

export async function listCoreInstances(db: Database) {
  return db.orm.select().from(coreInstances).orderBy(coreInstances.startedAt);
}
