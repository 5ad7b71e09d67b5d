import type { AfterCommitEvent } from "../../../kernel/resource/types.js";

/**
 * After a committed write that changed which device an identifier names (a manual identifier added
 * or removed, an unmerge), the in-process DIRE cache forgets the tenant's mappings: a stale entry
 * would send the next sighting to the wrong device. Without a cache (tests, the CLI) there is
 * nothing to forget.
 */
export async function forgetTenantIdentities(event: AfterCommitEvent): Promise<undefined> {
  if (event.tenantId !== null) event.services.identityCache?.invalidateTenant(event.tenantId);
  return undefined;
}
