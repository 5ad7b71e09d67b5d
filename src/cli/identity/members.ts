import { membershipResource, userResource } from "../../domains/identity/resources/index.js";
import { findUserByEmail, type FoundUser } from "../../domains/identity/users.js";
import type { Rec } from "../../kernel/kernel.js";
import { SondeError } from "../../lib/errors.js";
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

/** The tenant's members by id, read through the kernel (`user` resource) in the tenant's scope. */
export async function usersById(
  ctx: IdentityContext,
  tenant: TenantRef,
  ids: readonly string[],
): Promise<Map<string, Rec>> {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return new Map();
  const users = await listAll(ctx, ctx.kernel.resource(userResource.name), tenant.id, {
    filter: { field: "id", op: "in", value: wanted },
  });
  return new Map(users.map((u) => [String(u.id), u]));
}

/** Creates the membership through the kernel, as the system actor in the tenant (max_users holds). */
export async function createMembership(
  ctx: IdentityContext,
  tenant: TenantRef,
  userId: string,
  role: string,
): Promise<Rec> {
  return ctx.kernel.create(
    ctx.kernel.resource(membershipResource.name),
    { actor: ctx.actor, tenantId: tenant.id },
    { user_id: userId, role },
  );
}
