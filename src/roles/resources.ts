import type { ResourceDeclaration } from "../kernel/resource/define.js";

/**
 * Resources the domains declare (the kernel adds its own, such as the audit log). One list, read by
 * core (the kernel it serves) and by `sonde keys rotate` (which re-encrypts every encrypted attribute
 * of every resource here), so the two cannot drift apart.
 */
export const coreResources: readonly ResourceDeclaration[] = [];
