/**
 * What actions may use beyond the database, handed to the kernel at start (KernelOptions.services)
 * and to each action's `afterCommit`: a mailer for links, the public URL they point at, the job
 * queue, caches to invalidate. Resources are static declarations; this is how they reach the
 * process's components without globals.
 */
import type { Bus } from "../platform/bus/types.js";
import type { Mailer } from "../platform/mail/types.js";

/** The part of the job queue actions use: enqueue one job by name (a registered definition). */
export interface JobSender {
  send(
    name: string,
    payload: Record<string, unknown>,
    opts?: { readonly singletonKey?: string },
  ): Promise<void>;
}

/** An in-process cache of what a tenant's rows say (DIRE's identity cache), dropped after writes that change it. */
export interface TenantCache {
  invalidateTenant(tenantId: string): void;
}

export interface KernelServices {
  readonly mailer?: Mailer;
  /** The URL users reach Sonde at (SONDE_PUBLIC_URL), for links in mails. */
  readonly publicUrl?: string;
  readonly jobs?: JobSender;
  readonly identityCache?: TenantCache;
  /**
   * The process's bus, for after-commit steps that tell other processes something the database
   * cannot (a poller's operator intent goes into the `sonde-control` KV bucket it watches).
   */
  readonly bus?: Bus;
}
