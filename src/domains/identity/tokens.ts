/**
 * API tokens: better-auth's api-key plugin stores and verifies them (hashed, with a shown prefix,
 * expiry, usage counters); Sonde adds the tenant the token acts in and its scope, kept in the key's
 * metadata. The metadata is checked again on every use (resolver.ts), so a token whose owner lost
 * the membership stops working at once.
 */
import { z } from "zod";
import { SCOPES, type Scope } from "../../kernel/actor.js";
import type { Auth } from "./auth.js";

export const tokenMetadataSchema = z.object({ tenantId: z.uuid(), scope: z.enum(SCOPES) });
export type TokenMetadata = z.infer<typeof tokenMetadataSchema>;

export interface CreateTokenInput {
  readonly userId: string;
  readonly tenantId: string;
  readonly scope: Scope;
  readonly name: string;
  /** Seconds until the token expires; none: it lives until revoked. */
  readonly expiresIn?: number;
}

export interface CreatedToken {
  readonly id: string;
  /** The token itself: shown once, stored only as a hash. */
  readonly key: string;
  readonly start: string | null;
}

/** Creates a token for a user in one tenant. The caller has checked that it may (admin, or the user). */
export async function createApiToken(auth: Auth, input: CreateTokenInput): Promise<CreatedToken> {
  const metadata: TokenMetadata = { tenantId: input.tenantId, scope: input.scope };
  const created = await auth.api.createApiKey({
    body: {
      userId: input.userId,
      name: input.name,
      metadata,
      ...(input.expiresIn !== undefined ? { expiresIn: input.expiresIn } : {}),
    },
  });
  return { id: created.id, key: created.key, start: created.start ?? null };
}

/** Revokes a token: it stays listed (disabled) but no longer authenticates. */
export async function revokeApiToken(auth: Auth, userId: string, keyId: string): Promise<void> {
  await auth.api.updateApiKey({ body: { keyId, userId, enabled: false } });
}
