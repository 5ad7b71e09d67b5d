/**
 * Sign-in test helpers: a dev mailbox to read sign-in mails from, and users made the way Sonde makes
 * them now that sign-up is closed (better-auth's own adapter and password hasher, as the first run
 * does), never through a sign-up endpoint.
 */
import type { Auth } from "../../src/domains/identity/auth.js";
import { memberships } from "../../src/domains/identity/auth.schema.js";
import type { Role } from "../../src/kernel/actor.js";
import { inScope } from "../../src/kernel/tenancy/transaction.js";
import type { Orm } from "../../src/platform/db/types.js";
import { createUser } from "../../src/domains/identity/users.js";
import { createDevMailboxMailer, DevMailbox } from "../../src/platform/mail/dev-mailbox.js";
import type { Mailer } from "../../src/platform/mail/types.js";
import { silentLogger } from "./databases.js";

export function testMailer(): { mailer: Mailer; mailbox: DevMailbox } {
  const mailbox = new DevMailbox();
  const mailer = createDevMailboxMailer({
    from: { address: "sonde@sonde.test", name: "Sonde" },
    logger: silentLogger,
    mailbox,
  });
  return { mailer, mailbox };
}

/** A user with a password (unless `password` is null); their address confirmed unless told otherwise. */
export function createTestUser(
  auth: Auth,
  user: { email: string; password: string | null; emailVerified?: boolean },
): Promise<string> {
  return createUser(auth, {
    email: user.email,
    name: user.email,
    ...(user.password !== null ? { password: user.password } : {}),
    emailVerified: user.emailVerified ?? true,
  });
}

/** The one link in a sign-in mail. */
export function linkIn(text: string): URL {
  const links = text.match(/https?:\/\/\S+/g) ?? [];
  if (links.length !== 1) throw new Error(`expected one link in the mail, found ${links.length}`);
  return new URL(links[0] ?? "");
}

/** The `Cookie` header a browser would send back for these `Set-Cookie` headers. */
export function cookieHeader(setCookies: readonly string[]): string {
  return setCookies
    .map((c) => c.split(";")[0] ?? "")
    .filter((pair) => !/=$/.test(pair))
    .join("; ");
}

/**
 * A membership made straight in the tenant's scope, for suites whose subject is sign-in rather than
 * memberships (the product makes them through the kernel: invitations, `sonde user create`).
 */
export async function addMembership(orm: Orm, tenantId: string, userId: string, role: Role): Promise<void> {
  await inScope(orm, { tenantId, bypass: false }, (tx) =>
    tx
      .insert(memberships)
      .values({ tenant_id: tenantId, user_id: userId, role })
      .onConflictDoUpdate({ target: [memberships.tenant_id, memberships.user_id], set: { role } }),
  );
}
