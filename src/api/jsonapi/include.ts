/**
 * Relationship linkage and `include`: related records are read through the kernel as the same actor
 * (`listWhereIn`), so an included record obeys the related resource's policies and tenancy exactly
 * as if it had been fetched on its own. Nothing is included that the actor could not GET.
 */
import type { ActionContext } from "../../kernel/pipeline/authorize.js";
import type { Kernel, Rec } from "../../kernel/kernel.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import type { Linkage, ResourceIdentifier, Typed } from "./serialize.js";

export interface Compound {
  readonly primary: Typed[];
  readonly included: Typed[];
}

/**
 * Attaches linkage to each primary record (belongs_to always: the key is on the record; has_many when
 * included) and loads the included records.
 */
export async function compound(
  kernel: Kernel,
  ctx: ActionContext,
  resource: AnyResource,
  records: readonly Rec[],
  include: readonly string[],
): Promise<Compound> {
  const linkage = new Map<Rec, Map<string, ResourceIdentifier | null | ResourceIdentifier[]>>(
    records.map((r) => [r, new Map()]),
  );
  const included: Typed[] = [];
  for (const [name, rel] of Object.entries(resource.spec.relationships ?? {})) {
    const related = kernel.related(resource, name);
    const wanted = include.includes(name);
    if (rel.kind === "belongs_to") {
      for (const r of records) {
        const key = r[rel.sourceField];
        linkage
          .get(r)
          ?.set(name, key === null || key === undefined ? null : { type: related.type, id: String(key) });
      }
      if (!wanted) continue;
      const keys = [
        ...new Set(records.map((r) => r[rel.sourceField]).filter((k) => k !== null && k !== undefined)),
      ];
      const rows = await kernel.listWhereIn(related, ctx, related.primaryKey, keys);
      included.push(...rows.map((record) => ({ resource: related, record })));
      continue;
    }
    if (!wanted) continue;
    const ids = records.map((r) => r[resource.primaryKey]);
    const rows = await kernel.listWhereIn(related, ctx, rel.destinationField, ids);
    const byOwner = new Map<string, ResourceIdentifier[]>();
    for (const row of rows) {
      const owner = String(row[rel.destinationField]);
      const list = byOwner.get(owner) ?? [];
      list.push({ type: related.type, id: String(row[related.primaryKey]) });
      byOwner.set(owner, list);
      included.push({ resource: related, record: row });
    }
    for (const r of records) linkage.get(r)?.set(name, byOwner.get(String(r[resource.primaryKey])) ?? []);
  }
  const primary = records.map((record): Typed => {
    const l: Linkage | undefined = linkage.get(record);
    return l === undefined ? { resource, record } : { resource, record, linkage: l };
  });
  return { primary, included };
}
