/**
 * Who may get a session at all: a user whose every tenant is suspended may not (a suspended tenant's
 * members "cannot sign in"). Super users always may: they are the ones who resume tenants. A user
 * without any membership may sign in, and meets 403 on every tenant route until invited; refusing
 * them here would hide the reason.
 */
import type { Orm } from "../../platform/db/types.js";
import { findUser, listMemberships } from "./memberships.js";

export type SignInVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string };

export async function signInVerdict(orm: Orm, userId: string): Promise<SignInVerdict> {
  const user = await findUser(orm, userId);
  if (user === undefined) return { allowed: false, reason: "unknown user" };
  if (user.status !== "active") return { allowed: false, reason: "this account is disabled" };
  if (user.superUser) return { allowed: true };
  const memberships = await listMemberships(orm, userId);
  if (memberships.length > 0 && memberships.every((m) => m.tenant.status === "suspended")) {
    return { allowed: false, reason: "your tenant is suspended" };
  }
  return { allowed: true };
}
