/**
 * The kernel benchmark's own resource: a small tenant-scoped table shaped like the product's lists
 * (newest first, a visibility column that a viewer policy filters on), with tenant RLS and an index that
 * fits the list: `(tenant_id, created_at desc, id)`.
 */
import { integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import type { UserActor } from "../../src/kernel/actor.js";
import {
  actionType,
  authorizeIf,
  bypass,
  policy,
  roleAtLeast,
  rowFilter,
  superUser,
} from "../../src/kernel/policy/checks.js";
import { defineResource } from "../../src/kernel/resource/define.js";
import { tenantRlsSql } from "../../src/kernel/tenancy/rls.js";

export const benchItems = pgTable("bench_items", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenant_id: uuid("tenant_id").notNull(),
  name: text("name").notNull(),
  visibility: text("visibility").notNull().default("public"),
  priority: integer("priority").notNull().default(0),
  created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/** The table without indexes: they are built after the bulk load, which is much faster. */
export const CREATE_TABLE = `
create table bench_items (
  id uuid not null default gen_random_uuid(),
  tenant_id uuid not null,
  name text not null,
  visibility text not null default 'public',
  priority integer not null default 0,
  created_at timestamptz not null default now()
)`;

/**
 * Spreads `rows` rows evenly over every tenant; one in five is private. Timestamps lie in the past, so
 * rows the create benchmark adds later sort first.
 */
export function loadSql(rows: number): string {
  return `
insert into bench_items (tenant_id, name, visibility, priority, created_at)
select t.ids[1 + (g % cardinality(t.ids))],
       'item-' || g,
       case when g % 5 = 0 then 'private' else 'public' end,
       g % 10,
       now() - make_interval(secs => g)
from (select array_agg(id order by slug) as ids from tenants) t,
     generate_series(1, ${Math.trunc(rows)}) g`;
}

export const INDEX_SQL = `
alter table bench_items add primary key (id);
alter table bench_items add foreign key (tenant_id) references tenants(id) on delete cascade;
create index bench_items_tenant_created on bench_items (tenant_id, created_at desc, id);
${tenantRlsSql("bench_items")}`;

const policies = [
  bypass(superUser()),
  // Viewers see public items only (a filter check, compiled to SQL); operators and admins see all.
  policy(
    actionType("read"),
    authorizeIf(roleAtLeast("operator")),
    authorizeIf(rowFilter("public items", () => ({ field: "visibility", op: "eq", value: "public" }))),
  ),
  policy(actionType("create"), authorizeIf(roleAtLeast("operator"))),
];

const actions = {
  read: { type: "read" },
  create: { type: "create", accept: ["name", "visibility", "priority"] },
} as const;

/** As a product resource is declared by default: every write also writes an outbox row. */
export const benchItem = defineResource({
  name: "bench_item",
  table: benchItems,
  tenancy: "tenant",
  actions,
  policies,
});

/** The same table without events, to separate the outbox write from the kernel's own cost. */
export const benchItemQuiet = defineResource({
  name: "bench_item_quiet",
  table: benchItems,
  tenancy: "tenant",
  actions,
  policies,
  events: false,
});

export function user(tenantId: string, role: UserActor["role"]): UserActor {
  return { kind: "user", id: `bench-${role}`, tenantId, role, superUser: false };
}
