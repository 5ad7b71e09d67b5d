import type { ResourceDeclaration } from "../../../kernel/resource/define.js";
import { deviceResource } from "./device.js";

export { deviceResource };

/** The inventory's resources: devices and what DIRE keeps about their identity. */
export const inventoryResources: readonly ResourceDeclaration[] = [deviceResource];
