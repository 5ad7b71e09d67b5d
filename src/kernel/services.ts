/**
 * What actions may use beyond the database, handed to the kernel at start (KernelOptions.services)
 * and to each action's `afterCommit`: a mailer for links, the public URL they point at. Resources
 * are static declarations; this is how they reach the process's components without globals.
 */
import type { Mailer } from "../platform/mail/types.js";

export interface KernelServices {
  readonly mailer?: Mailer;
  /** The URL users reach Sonde at (SONDE_PUBLIC_URL), for links in mails. */
  readonly publicUrl?: string;
}
