/**
 * The plain drizzle queries the kernel is measured against, written once: the same projection, filter
 * and order as the kernel's viewer reads (public rows of one tenant, newest first).
 */
import { and, asc, desc, eq, type SQL } from "drizzle-orm";
import type { Orm } from "../../src/platform/db/types.js";
import { benchItems } from "./resource.js";

export const LIST_SIZE = 100;

/** What a read returns: every attribute but tenant_id (the kernel's projection). */
export const benchColumns = {
  id: benchItems.id,
  name: benchItems.name,
  visibility: benchItems.visibility,
  priority: benchItems.priority,
  created_at: benchItems.created_at,
};

type Selecting = Pick<Orm, "select">;

/** Public rows of the tenant; with no tenant named, of whatever tenant row-level security admits. */
function publicRows(tenant: string | undefined): SQL | undefined {
  const isPublic = eq(benchItems.visibility, "public");
  return tenant === undefined ? isPublic : and(eq(benchItems.tenant_id, tenant), isPublic);
}

export function listNewest(db: Selecting, tenant: string | undefined) {
  return db
    .select(benchColumns)
    .from(benchItems)
    .where(publicRows(tenant))
    .orderBy(desc(benchItems.created_at), asc(benchItems.id))
    .limit(LIST_SIZE);
}

export function getPublic(db: Selecting, tenant: string, id: string) {
  return db
    .select(benchColumns)
    .from(benchItems)
    .where(and(eq(benchItems.id, id), publicRows(tenant)))
    .limit(1);
}

/** Ids a viewer may read, to rotate through in read-by-id measurements. */
export async function publicIds(db: Selecting, tenant: string): Promise<string[]> {
  const rows = await db.select({ id: benchItems.id }).from(benchItems).where(publicRows(tenant)).limit(500);
  return rows.map((r) => r.id);
}
