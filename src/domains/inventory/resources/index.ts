import type { ResourceDeclaration } from "../../../kernel/resource/define.js";
import { deviceAliasStateResource } from "./device-alias-state.js";
import { deviceGroupResource } from "./device-group.js";
import { deviceIdentifierResource } from "./device-identifier.js";
import { deviceResource } from "./device.js";
import { interfaceResource } from "./interface.js";
import { mergeAuditResource } from "./merge-audit.js";

export {
  deviceAliasStateResource,
  deviceGroupResource,
  deviceIdentifierResource,
  deviceResource,
  interfaceResource,
  mergeAuditResource,
};

/** The inventory's resources: devices and what DIRE keeps about their identity. */
export const inventoryResources: readonly ResourceDeclaration[] = [
  deviceResource,
  deviceGroupResource,
  interfaceResource,
  deviceIdentifierResource,
  mergeAuditResource,
  deviceAliasStateResource,
];
