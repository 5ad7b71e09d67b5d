/**
 * Accepting an invitation: the invitee proves control of the invited address by presenting the
 * link's secret. The user is created when there is none with that address (with the name and
 * password given), the membership is made through the kernel as the system actor in the inviting
 * tenant (so `max_users` holds), and the invitation moves to `accepted`, all or nothing from the
 * invitee's view: a user created here is removed again if the membership cannot be made.
 */
import { eq } from "drizzle-orm";
import { systemActor } from "../../kernel/actor.js";
import type { Kernel } from "../../kernel/kernel.js";
import { inScope } from "../../kernel/tenancy/transaction.js";
import { isSondeError, SondeError } from "../../lib/errors.js";
import type { Orm } from "../../platform/db/types.js";
import type { Auth } from "./auth.js";
import { invitations } from "./identity.schema.js";
import { invitationResource, membershipResource } from "./resources/index.js";
import { hashSecret, sameHash } from "./secrets.js";
import { createUser, deleteUser, findUserByEmail, markEmailVerified } from "./users.js";

export interface AcceptInput {
  readonly token: string;
  /** For a new user only. */
  readonly name?: string;
  readonly password?: string;
}

export interface Accepted {
  readonly tenantId: string;
  readonly userId: string;
  readonly email: string;
  readonly role: string;
  /** Whether this acceptance created the user (else an existing user joined). */
  readonly createdUser: boolean;
}

export interface InvitationDeps {
  readonly orm: Orm;
  readonly auth: Auth;
  readonly kernel: Kernel;
}

const invalid = () =>
  new SondeError(
    "SONDE_LINK_INVALID",
    "this invitation link is not valid: it expired, was used or was withdrawn",
  );

async function findPending(orm: Orm, token: string) {
  const hash = hashSecret(token);
  const [row] = await inScope(orm, { tenantId: null, bypass: true }, (tx) =>
    tx.select().from(invitations).where(eq(invitations.token_hash, hash)).limit(1),
  );
  if (row === undefined || !sameHash(row.token_hash, hash)) return undefined;
  if (row.state !== "pending" || row.expires_at.getTime() <= Date.now()) return undefined;
  return row;
}

export async function acceptInvitation(deps: InvitationDeps, input: AcceptInput): Promise<Accepted> {
  const invitation = await findPending(deps.orm, input.token);
  if (invitation === undefined) throw invalid();
  const ctx = { actor: systemActor("invitation"), tenantId: invitation.tenant_id };

  const existing = await findUserByEmail(deps.auth, invitation.email);
  let userId: string;
  let createdUser = false;
  if (existing === undefined) {
    const name = input.name?.trim() ?? "";
    if (name === "") {
      throw new SondeError("SONDE_VALIDATION_FAILED", "name: is required to create your account", {
        pointer: "/name",
        meta: { field: "name" },
      });
    }
    if (input.password === undefined) {
      throw new SondeError("SONDE_VALIDATION_FAILED", "password: is required to create your account", {
        pointer: "/password",
        meta: { field: "password" },
      });
    }
    userId = await createUser(deps.auth, {
      email: invitation.email,
      name,
      password: input.password,
      emailVerified: true,
    });
    createdUser = true;
  } else {
    userId = existing.id;
    if (!existing.emailVerified) await markEmailVerified(deps.auth, userId);
  }

  const memberships = deps.kernel.resource(membershipResource.name);
  try {
    const member = await deps.kernel.list(memberships, ctx, {
      filter: { field: "user_id", op: "eq", value: userId },
    });
    // Someone already in the tenant keeps their role: an invitation never demotes.
    if (member.records.length === 0) {
      await deps.kernel.create(memberships, ctx, { user_id: userId, role: invitation.role });
    }
    await deps.kernel.runAction(deps.kernel.resource(invitationResource.name), "accept", ctx, {
      id: invitation.id,
      arguments: { user_id: userId },
    });
  } catch (err) {
    if (createdUser) await deleteUser(deps.auth, userId);
    // A second acceptance racing this one: the link is used.
    if (isSondeError(err, "SONDE_INVALID_TRANSITION") || isSondeError(err, "SONDE_DB_UNIQUE_VIOLATION")) {
      throw invalid();
    }
    throw err;
  }
  return {
    tenantId: invitation.tenant_id,
    userId,
    email: invitation.email,
    role: invitation.role,
    createdUser,
  };
}
