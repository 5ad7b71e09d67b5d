import { identityResources } from "../domains/identity/resources/index.js";
import { infrastructureResources } from "../domains/infrastructure/resources/index.js";
import { integrationResources } from "../domains/integrations/resources/index.js";
import { inventoryResources } from "../domains/inventory/resources/index.js";
import type { ResourceDeclaration } from "../kernel/resource/define.js";

/**
 * Resources the domains declare (the kernel adds its own, such as the audit log). One list, read by
 * core (the kernel it serves), by the CLI and by `sonde keys rotate` (which re-encrypts every
 * encrypted attribute of every resource here), so that they cannot drift apart.
 */
export const coreResources: readonly ResourceDeclaration[] = [
  ...identityResources,
  ...inventoryResources,
  ...integrationResources,
  ...infrastructureResources,
];
