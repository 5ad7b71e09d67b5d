/**
 * API token verification: the lookup the actor resolver makes for `Authorization: Bearer sonde_…`,
 * before any tenant is known. It reads one row by the token's hash as `sonde_system` (the explicit
 * cross-tenant role): authenticating a request is not an action on tenant data. Creating and revoking
 * tokens are actions of the `api_token` resource (resources/api-token.ts).
 */
import { and, eq } from "drizzle-orm";
import type { Scope } from "../../kernel/actor.js";
import { inScope } from "../../kernel/tenancy/transaction.js";
import { API_TOKEN_PREFIX } from "../../lib/credentials.js";
import type { Orm } from "../../platform/db/types.js";
import { tenants } from "../../kernel/kernel.schema.js";
import { authUser, memberships } from "./auth.schema.js";
import { apiTokens } from "./identity.schema.js";
import type { Membership } from "./memberships.js";
import { hashSecret, sameHash } from "./secrets.js";

export interface VerifiedToken {
  readonly id: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly scope: Scope;
  /** The token's user, read in the same query: a request costs one lookup, not three. */
  readonly user: { readonly status: string; readonly superUser: boolean };
  /** The user's membership in the token's tenant (null: they lost it, and the token acts nowhere). */
  readonly membership: Membership | null;
}

export type TokenRefusal = "unknown" | "revoked" | "expired";

/** The token's row when it is known, not revoked and not expired; otherwise why not. */
export async function verifyApiToken(
  orm: Orm,
  token: string,
  now = new Date(),
): Promise<VerifiedToken | TokenRefusal> {
  if (!token.startsWith(API_TOKEN_PREFIX)) return "unknown";
  const hash = hashSecret(token);
  const [row] = await inScope(orm, { tenantId: null, bypass: true }, (tx) =>
    tx
      .select({
        id: apiTokens.id,
        tenantId: apiTokens.tenant_id,
        userId: apiTokens.user_id,
        scope: apiTokens.scope,
        hash: apiTokens.token_hash,
        expiresAt: apiTokens.expires_at,
        revokedAt: apiTokens.revoked_at,
        userStatus: authUser.status,
        superUser: authUser.superUser,
        role: memberships.role,
        slug: tenants.slug,
        tenantName: tenants.name,
        tenantStatus: tenants.status,
      })
      .from(apiTokens)
      .innerJoin(authUser, eq(authUser.id, apiTokens.user_id))
      .innerJoin(tenants, eq(tenants.id, apiTokens.tenant_id))
      .leftJoin(
        memberships,
        and(eq(memberships.user_id, apiTokens.user_id), eq(memberships.tenant_id, apiTokens.tenant_id)),
      )
      .where(eq(apiTokens.token_hash, hash))
      .limit(1),
  );
  // The index found the row by equality; compare again in constant time before trusting it.
  if (row === undefined || !sameHash(row.hash, hash)) return "unknown";
  if (row.revokedAt !== null) return "revoked";
  if (row.expiresAt !== null && row.expiresAt.getTime() <= now.getTime()) return "expired";
  const tenant = { id: row.tenantId, slug: row.slug, name: row.tenantName, status: row.tenantStatus };
  return {
    id: row.id,
    tenantId: row.tenantId,
    userId: row.userId,
    scope: row.scope,
    user: { status: row.userStatus, superUser: row.superUser },
    membership: row.role === null ? null : { tenant, role: row.role },
  };
}
