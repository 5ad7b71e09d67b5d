/**
 * Two small, real, tenant-scoped resources that exercise the whole kernel: notes (with a state machine,
 * a sensitive attribute, an identity, calculations, aggregates, row-level policies and a custom action)
 * and their comments (has_many / belongs_to). They exist only in tests; the domain issues declare the
 * product's resources the same way.
 */
import { sql } from "drizzle-orm";
import { boolean, integer, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { z } from "zod";
import { type Actor, type Role, systemActor, type UserActor } from "../../src/kernel/actor.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { tenants } from "../../src/kernel/kernel.schema.js";
import {
  actionName,
  actionType,
  actorRole,
  authorizeIf,
  bypass,
  forbidIf,
  isSystemActor,
  policy,
  roleAtLeast,
  rowFilter,
  superUser,
} from "../../src/kernel/policy/checks.js";
import { defineResource } from "../../src/kernel/resource/define.js";
import type { ResourceRef } from "../../src/kernel/resource/types.js";
import { tenantRlsSql } from "../../src/kernel/tenancy/rls.js";
import { migrateUp } from "../../src/platform/db/migrate.js";
import type { Database } from "../../src/platform/db/types.js";
import { silentLogger } from "./databases.js";

export const notesTable = pgTable(
  "notes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    title: text("title").notNull(),
    body: text("body"),
    owner_id: text("owner_id").notNull(),
    visibility: text("visibility").notNull().default("public"),
    locked: boolean("locked").notNull().default(false),
    secret: text("secret"),
    state: text("state").notNull().default("draft"),
    priority: integer("priority").notNull().default(0),
    tags: text("tags")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("notes_tenant_title").on(t.tenant_id, t.title)],
);

export const commentsTable = pgTable("note_comments", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenant_id: uuid("tenant_id").notNull(),
  note_id: uuid("note_id")
    .notNull()
    .references(() => notesTable.id, { onDelete: "cascade" }),
  body: text("body").notNull(),
  score: integer("score").notNull().default(0),
});

export const FIXTURE_DDL = `
create table notes (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants(id) on delete cascade,
  title text not null,
  body text,
  owner_id text not null,
  visibility text not null default 'public',
  locked boolean not null default false,
  secret text,
  state text not null default 'draft',
  priority integer not null default 0,
  tags text[] not null default '{}',
  created_at timestamptz not null default now()
);
create unique index notes_tenant_title on notes (tenant_id, title);
alter table notes add constraint notes_tenant_id_id unique (tenant_id, id);
-- The key includes tenant_id: PostgreSQL checks foreign keys without row-level security, so a
-- single-column key would let one tenant's row point at another's.
create table note_comments (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid not null references tenants(id) on delete cascade,
  note_id uuid not null,
  body text not null,
  score integer not null default 0,
  foreign key (tenant_id, note_id) references notes (tenant_id, id) on delete cascade
);
${tenantRlsSql("notes")}
${tenantRlsSql("note_comments")}
`;

export const notes = defineResource({
  name: "note",
  table: notesTable,
  tenancy: "tenant",
  attributes: { secret: { sensitive: true }, title: { schema: z.string().min(1).max(200) } },
  identities: { unique_title: ["title"] },
  relationships: {
    comments: { kind: "has_many", resource: (): ResourceRef => comments, destinationField: "note_id" },
  },
  calculations: {
    display_name: { type: "string", sql: (t) => sql`coalesce(nullif(${t.title}, ''), 'Untitled note')` },
  },
  aggregates: {
    comment_count: { kind: "count", relationship: "comments" },
    top_score: { kind: "max", relationship: "comments", field: "score" },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["title", "body", "owner_id", "visibility", "secret", "priority", "tags", "locked"],
    },
    upsert: {
      type: "create",
      accept: ["title", "body", "owner_id", "priority"],
      upsertIdentity: "unique_title",
    },
    update: {
      type: "update",
      accept: ["title", "body", "visibility", "priority", "tags", "locked", "secret"],
      validations: [
        (v) =>
          typeof v.priority === "number" && v.priority > 10
            ? { field: "priority", message: "must be at most 10" }
            : undefined,
      ],
    },
    destroy: { type: "destroy" },
    publish: {
      type: "update",
      route: "publish",
      arguments: z.object({ note: z.string().max(100).optional() }),
      changes: [
        (v, ctx) => (typeof ctx.arguments.note === "string" ? { ...v, body: ctx.arguments.note } : v),
      ],
    },
    archive: { type: "update", route: "archive" },
    // Set-based work (Kernel.bulk); the create policies apply to it.
    import: { type: "create", bulk: true },
  },
  stateMachine: {
    attribute: "state",
    initial: "draft",
    states: ["draft", "published", "archived"],
    transitions: [
      { action: "publish", from: ["draft"], to: "published" },
      { action: "archive", from: ["draft", "published"], to: "archived" },
    ],
  },
  policies: [
    bypass(superUser()),
    // Triggers and jobs act as the system actor; declared, never implied.
    bypass(isSystemActor()),
    // Viewers see public notes; operators and admins see all.
    policy(
      actionType("read"),
      authorizeIf(roleAtLeast("operator")),
      authorizeIf(rowFilter("public notes", () => ({ field: "visibility", op: "eq", value: "public" }))),
    ),
    // Operators create notes they own; admins any.
    policy(
      actionType("create"),
      authorizeIf(actorRole("admin")),
      forbidIf(actorRole("viewer")),
      authorizeIf(
        rowFilter("owned by the actor", () => ({ field: "owner_id", op: "eq", value: { actor: "id" } })),
      ),
    ),
    policy(
      actionType("update"),
      forbidIf(rowFilter("locked", () => ({ field: "locked", op: "eq", value: true }))),
      authorizeIf(roleAtLeast("operator")),
    ),
    policy(actionName("archive"), authorizeIf(actorRole("admin"))),
    policy(actionType("destroy"), authorizeIf(actorRole("admin"))),
  ],
  events: true,
});

export const comments = defineResource({
  name: "comment",
  table: commentsTable,
  tenancy: "tenant",
  relationships: { note: { kind: "belongs_to", resource: (): ResourceRef => notes, sourceField: "note_id" } },
  actions: {
    read: { type: "read" },
    create: { type: "create", accept: ["note_id", "body", "score"] },
    update: { type: "update", accept: ["body", "score"] },
    destroy: { type: "destroy" },
  },
  policies: [
    bypass(superUser()),
    bypass(isSystemActor()),
    policy(actionType("read"), authorizeIf(roleAtLeast("viewer"))),
    policy(actionType("create", "update"), authorizeIf(roleAtLeast("operator"))),
    policy(actionType("destroy"), authorizeIf(actorRole("admin"))),
  ],
});

export interface Fixture {
  readonly kernel: Kernel;
  readonly tenantA: string;
  readonly tenantB: string;
  actor(tenantId: string, role: Role, extra?: Partial<UserActor>): UserActor;
  readonly system: Actor;
}

/** Migrates the database, creates the fixture tables and two tenants, and boots a kernel over them. */
export async function setupKernel(db: Database, opts: { onOutboxWrite?: () => void } = {}): Promise<Fixture> {
  await migrateUp(db);
  await db.exec(FIXTURE_DDL);
  const inserted = await db.orm
    .insert(tenants)
    .values([
      { slug: "acme", name: "Acme" },
      { slug: "globex", name: "Globex" },
    ])
    .returning({ id: tenants.id });
  const [a, b] = inserted.map((r) => r.id);
  if (a === undefined || b === undefined) throw new Error("tenants not created");
  const kernel = new Kernel({
    orm: db.orm,
    resources: [notes, comments],
    logger: silentLogger,
    ...(opts.onOutboxWrite ? { onOutboxWrite: opts.onOutboxWrite } : {}),
  });
  let n = 0;
  return {
    kernel,
    tenantA: a,
    tenantB: b,
    actor: (tenantId, role, extra = {}) => ({
      kind: "user",
      id: `user-${role}-${++n}`,
      tenantId,
      role,
      superUser: false,
      ...extra,
    }),
    system: systemActor("test"),
  };
}
