/**
 * Creating people. better-auth owns the user, account and password rows (its scrypt hash, its id
 * format), so users are made through its internal adapter rather than through the kernel; the
 * kernel then governs everything a user does in a tenant, starting with the membership that lets
 * them in. Callers (invitation acceptance, `sonde user create`) decide that someone may be created.
 */
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from "../../lib/credentials.js";
import { SondeError } from "../../lib/errors.js";
import type { Auth } from "./auth.js";

export interface NewUser {
  readonly email: string;
  readonly name: string;
  /** None: the user signs in by magic link, OIDC, or sets one through a password reset. */
  readonly password?: string;
  /** True when the address is proven (an invitation link was followed) or vouched for by an operator. */
  readonly emailVerified: boolean;
}

export interface FoundUser {
  readonly id: string;
  readonly email: string;
  readonly emailVerified: boolean;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function assertPassword(password: string, pointer = "/password"): void {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH) {
    throw new SondeError(
      "SONDE_VALIDATION_FAILED",
      `password: must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters`,
      { pointer, meta: { field: "password" } },
    );
  }
}

export async function findUserByEmail(auth: Auth, email: string): Promise<FoundUser | undefined> {
  const ctx = await auth.$context;
  const found = await ctx.internalAdapter.findUserByEmail(normaliseEmail(email));
  if (found === null) return undefined;
  return { id: found.user.id, email: found.user.email, emailVerified: found.user.emailVerified };
}

/** Creates a user (and their password, hashed by better-auth). Returns the new user's id. */
export async function createUser(auth: Auth, input: NewUser): Promise<string> {
  if (input.password !== undefined) assertPassword(input.password);
  const ctx = await auth.$context;
  const email = normaliseEmail(input.email);
  if ((await ctx.internalAdapter.findUserByEmail(email)) !== null) {
    throw new SondeError("SONDE_CONFLICT", `a user with the email ${email} exists already`, {
      meta: { field: "email" },
    });
  }
  const user = await ctx.internalAdapter.createUser(
    { email, name: input.name, emailVerified: input.emailVerified },
    { method: "email-password" },
  );
  if (input.password !== undefined) {
    await ctx.internalAdapter.linkAccount({
      userId: user.id,
      providerId: "credential",
      accountId: user.id,
      password: await ctx.password.hash(input.password),
    });
  }
  return user.id;
}

/** Marks an address as proven (its owner followed a link sent to it). */
export async function markEmailVerified(auth: Auth, userId: string): Promise<void> {
  const ctx = await auth.$context;
  await ctx.internalAdapter.updateUser(userId, { emailVerified: true });
}

/** Removes a user created moments ago whose membership could not be made (compensation). */
export async function deleteUser(auth: Auth, userId: string): Promise<void> {
  const ctx = await auth.$context;
  await ctx.internalAdapter.deleteUser(userId);
}
