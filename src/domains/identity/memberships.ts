/**
 * The tenant side of identity: which tenants a user belongs to, with which role, and the lookups the
 * actor resolver needs. Memberships are tenant-scoped under row-level security, so listing a user's
 * memberships across tenants runs as `sonde_system` (the explicit cross-tenant role): it reads only
 * that user's rows and is part of signing the user in, not an action on tenant data.
 */
import { asc, eq } from "drizzle-orm";
import type { Actor, Role } from "../../kernel/actor.js";
import { writeAudit } from "../../kernel/audit.js";
import { type TenantStatus, tenants } from "../../kernel/kernel.schema.js";
import { inScope } from "../../kernel/tenancy/transaction.js";
import type { Orm } from "../../platform/db/types.js";
import { authUser, memberships } from "./auth.schema.js";

export interface TenantRef {
  readonly id: string;
  readonly slug: string;
  readonly name: string;
  readonly status: TenantStatus;
}

export interface Membership {
  readonly tenant: TenantRef;
  readonly role: Role;
}

export interface IdentityUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly displayName: string | null;
  readonly status: string;
  readonly superUser: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The user's memberships, oldest first (the first is the default tenant of a session). */
export async function listMemberships(orm: Orm, userId: string): Promise<Membership[]> {
  const rows = await inScope(orm, { tenantId: null, bypass: true }, (tx) =>
    tx
      .select({
        id: tenants.id,
        slug: tenants.slug,
        name: tenants.name,
        status: tenants.status,
        role: memberships.role,
      })
      .from(memberships)
      .innerJoin(tenants, eq(tenants.id, memberships.tenant_id))
      .where(eq(memberships.user_id, userId))
      .orderBy(asc(memberships.created_at), asc(tenants.slug)),
  );
  return rows.map(({ role, ...tenant }) => ({ tenant, role }));
}

/** A tenant by slug or id (the `X-Sonde-Tenant` header takes either); the registry is global. */
export async function findTenant(orm: Orm, slugOrId: string): Promise<TenantRef | undefined> {
  const where = UUID.test(slugOrId) ? eq(tenants.id, slugOrId) : eq(tenants.slug, slugOrId);
  const [row] = await orm
    .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, status: tenants.status })
    .from(tenants)
    .where(where);
  return row;
}

export async function findUser(orm: Orm, userId: string): Promise<IdentityUser | undefined> {
  const [row] = await orm
    .select({
      id: authUser.id,
      email: authUser.email,
      name: authUser.name,
      displayName: authUser.displayName,
      status: authUser.status,
      superUser: authUser.superUser,
    })
    .from(authUser)
    .where(eq(authUser.id, userId));
  return row;
}

/** Records a super user acting in a tenant (kind `bypass`), in that tenant's audit log. */
export async function auditTenantEntry(
  orm: Orm,
  actor: Actor,
  tenantId: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await inScope(orm, { tenantId, bypass: true }, (tx) =>
    writeAudit(tx, {
      tenantId,
      actor,
      kind: "bypass",
      resource: "tenant",
      action: "enter",
      recordId: tenantId,
      detail,
    }),
  );
}
