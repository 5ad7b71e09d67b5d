import { membershipResource } from "../../domains/identity/resources/index.js";
import { createUser, deleteUser, findUserByEmail, normaliseEmail } from "../../domains/identity/users.js";
import type { Role } from "../../kernel/actor.js";
import { SondeError } from "../../lib/errors.js";
import { type IdentityContext, listAll, resolveTenant } from "./context.js";
import { createMembership, membershipOf, requireMember, usersById } from "./members.js";
import { type CommandResult, iso, table } from "./output.js";

export interface NewMember {
  readonly tenant: string;
  readonly email: string;
  readonly role: Role;
  readonly name?: string;
  readonly password?: string;
}

/**
 * Creates the user when nobody has the address (verified: the operator vouches for it; without a
 * password they sign in by magic link or a reset), then their membership through the kernel, so the
 * tenant's max_users applies. A user created here is deleted again when the membership is refused.
 */
export async function createMember(ctx: IdentityContext, input: NewMember): Promise<CommandResult> {
  const tenant = await resolveTenant(ctx, input.tenant);
  const email = normaliseEmail(input.email);
  const existing = await findUserByEmail(ctx.auth, email);
  const notes: string[] = [];
  let userId: string;
  if (existing !== undefined) {
    const member = await membershipOf(ctx, tenant, existing.id);
    if (member !== undefined) {
      throw new SondeError(
        "SONDE_CONFLICT",
        `${email} is already a member of ${tenant.slug} (role ${String(member.role)}): use \`sonde user set-role\` to change it`,
        { meta: { field: "email" } },
      );
    }
    // An existing account keeps its password: the operator adds a membership, not a credential.
    if (input.password !== undefined)
      notes.push(`sonde: ${email} exists already; the password was not changed`);
    userId = existing.id;
  } else {
    userId = await createUser(ctx.auth, {
      email,
      name: input.name ?? email.slice(0, email.indexOf("@")),
      emailVerified: true,
      ...(input.password !== undefined ? { password: input.password } : {}),
    });
  }
  let membership;
  try {
    membership = await createMembership(ctx, tenant, userId, input.role);
  } catch (err) {
    // All or nothing: a user this command made is not left behind without a tenant.
    if (existing === undefined) await deleteUser(ctx.auth, userId);
    throw err;
  }
  const created = existing === undefined;
  return {
    json: {
      user: { id: userId, email, created },
      tenant: tenant.slug,
      role: membership.role,
      membership_id: membership.id,
    },
    plain: [
      `${created ? "created user" : "added existing user"} ${email} to ${tenant.slug} as ${String(membership.role)}`,
    ],
    notes,
  };
}

export async function listMembers(ctx: IdentityContext, slug: string): Promise<CommandResult> {
  const tenant = await resolveTenant(ctx, slug);
  const memberships = await listAll(ctx, ctx.kernel.resource(membershipResource.name), tenant.id, {
    sort: [{ field: "created_at", direction: "asc" }],
  });
  const users = await usersById(
    ctx,
    tenant,
    memberships.map((m) => String(m.user_id)),
  );
  const members = memberships.map((m) => {
    const u = users.get(String(m.user_id));
    return {
      user_id: m.user_id,
      email: u?.email ?? null,
      name: u?.name ?? null,
      role: m.role,
      status: u?.status ?? null,
      member_since: iso(m.created_at),
    };
  });
  return {
    json: members,
    plain: table(
      ["email", "name", "role", "status", "member since"],
      members.map((m) => [m.email, m.name, m.role, m.status, m.member_since]),
    ),
  };
}

export async function setRole(
  ctx: IdentityContext,
  input: { tenant: string; email: string; role: Role },
): Promise<CommandResult> {
  const tenant = await resolveTenant(ctx, input.tenant);
  const { user, membership } = await requireMember(ctx, tenant, input.email);
  const updated = await ctx.kernel.update(
    ctx.kernel.resource(membershipResource.name),
    { actor: ctx.actor, tenantId: tenant.id },
    String(membership.id),
    { role: input.role },
  );
  return {
    json: { email: user.email, tenant: tenant.slug, role: updated.role, previous_role: membership.role },
    plain: [
      `${user.email} is now ${String(updated.role)} in ${tenant.slug} (was ${String(membership.role)})`,
    ],
  };
}

/** Ends the membership; the user (and their memberships elsewhere) stays. */
export async function removeMember(
  ctx: IdentityContext,
  input: { tenant: string; email: string },
): Promise<CommandResult> {
  const tenant = await resolveTenant(ctx, input.tenant);
  const { user, membership } = await requireMember(ctx, tenant, input.email);
  await ctx.kernel.destroy(
    ctx.kernel.resource(membershipResource.name),
    { actor: ctx.actor, tenantId: tenant.id },
    String(membership.id),
  );
  return {
    json: { email: user.email, tenant: tenant.slug, removed: true, role: membership.role },
    plain: [`${user.email} removed from ${tenant.slug} (the user account remains)`],
  };
}
