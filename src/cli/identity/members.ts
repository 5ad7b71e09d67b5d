import { findUser, type IdentityUser } from "../../domains/identity/memberships.js";
import { membershipResource } from "../../domains/identity/resources/index.js";
import { findUserByEmail, type FoundUser } from "../../domains/identity/users.js";
import type { Kernel, Rec } from "../../kernel/kernel.js";
import type { ResourceDeclaration } from "../../kernel/resource/define.js";
import { SondeError } from "../../lib/errors.js";
import { coreResources } from "../../roles/resources.js";
import { type IdentityContext, listAll, type TenantRef } from "./context.js";

/** The user with this address (better-auth's lookup, across tenants), or SONDE_NOT_FOUND. */
export async function userByEmail(ctx: IdentityContext, email: string): Promise<FoundUser> {
  const user = await findUserByEmail(ctx.auth, email);
  if (user === undefined) throw new SondeError("SONDE_NOT_FOUND", `no user ${email}`);
  return user;
}

/** The user's membership in the tenant, through the kernel; undefined when they are not a member. */
export async function membershipOf(
  ctx: IdentityContext,
  tenant: TenantRef,
  userId: string,
): Promise<Rec | undefined> {
  const found = await listAll(ctx, ctx.kernel.resource(membershipResource.name), tenant.id, {
    filter: { field: "user_id", op: "eq", value: userId },
  });
  return found[0];
}

/** The membership of the user with this address, or SONDE_NOT_FOUND naming what is missing. */
export async function requireMember(
  ctx: IdentityContext,
  tenant: TenantRef,
  email: string,
): Promise<{ user: FoundUser; membership: Rec }> {
  const user = await userByEmail(ctx, email);
  const membership = await membershipOf(ctx, tenant, user.id);
  if (membership === undefined) {
    throw new SondeError("SONDE_NOT_FOUND", `${user.email} is not a member of ${tenant.slug}`);
  }
  return { user, membership };
}

/**
 * Users by id (the tenant's members), for names and addresses in lists.
 *
 * WORKAROUND for a bug in the `user` resource (reported, not fixed here: src/domains/identity/** is
 * not the CLI's to edit). Its calculation `member_here` (resources/user.ts) interpolates `${t.id}`
 * into `exists (select 1 from memberships m where m.user_id = ${t.id} …)`; drizzle renders the
 * column unqualified, as "id", which inside that subquery is memberships.id (uuid), so every kernel
 * read of `user` fails with "operator does not exist: text = uuid". Until that is fixed the CLI
 * reads users with identity's own findUser (memberships.ts), one query per user, on the owner's
 * connection. It reads only: every write still goes through the kernel or better-auth.
 */
export async function usersById(
  ctx: IdentityContext,
  ids: readonly string[],
): Promise<Map<string, IdentityUser>> {
  const out = new Map<string, IdentityUser>();
  for (const id of new Set(ids)) {
    const user = await findUser(ctx.orm, id);
    if (user !== undefined) out.set(id, user);
  }
  return out;
}

/*
 * WORKAROUND for a kernel bug (reported, not fixed here: src/kernel/** is not the CLI's to edit).
 * Kernel.create checks every belongs_to key with assertReferencesVisible (src/kernel/kernel.ts),
 * inside the write's transaction, i.e. as sonde_app with app.tenant_id set. Row-level security on
 * "user" (migrations/0005, policy user_tenant_members) shows sonde_app only users who are already
 * members of that tenant, so creating a membership for anyone who is not yet a member — which is
 * every membership create — fails with "user_id refers to a user that does not exist", even for the
 * system actor. acceptInvitation (src/domains/identity/invitations.ts) meets the same failure.
 *
 * Until the kernel checks references the actor may read rather than rows the tenant's RLS shows,
 * the CLI creates memberships through a kernel whose membership declaration leaves out the `user`
 * relationship, and with it that one check. Everything else is the same pipeline: the system actor's
 * policies, validation, the tenant's max_users quota, the event and the audit. The foreign key still
 * refuses a user id that does not exist, and the CLI has just looked the user up itself.
 */
function kernelForMembershipCreate(ctx: IdentityContext): Kernel {
  const withoutUserCheck: ResourceDeclaration = { ...membershipResource, relationships: {} };
  return ctx.kernelWith(coreResources.map((r) => (r === membershipResource ? withoutUserCheck : r)));
}

/** Creates the membership through the kernel, as the system actor in the tenant (max_users holds). */
export async function createMembership(
  ctx: IdentityContext,
  tenant: TenantRef,
  userId: string,
  role: string,
): Promise<Rec> {
  const kernel = kernelForMembershipCreate(ctx);
  return kernel.create(
    kernel.resource(membershipResource.name),
    { actor: ctx.actor, tenantId: tenant.id },
    { user_id: userId, role },
  );
}
