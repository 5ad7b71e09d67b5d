import type { Logger } from "pino";
import { MemoryBus } from "./memory.js";
import { NatsBus } from "./nats.js";
import type { Bus } from "./types.js";

export { subjectFor, subjectMatches, subjectPattern } from "./subjects.js";
export type * from "./types.js";

export interface BusConfig {
  /** NATS_URL; the in-process bus is used when absent. */
  readonly natsUrl?: string;
  /** Connection name shown by the NATS server (e.g. "sonde-core"). */
  readonly name: string;
  readonly logger: Logger;
  /** Start-up connection attempts before SONDE_BUS_UNREACHABLE (default 5). */
  readonly connectAttempts?: number;
  /** First delay between attempts; doubles each time (default 250 ms). */
  readonly connectInitialDelayMs?: number;
  /** How long close() waits for running handlers (default 10 s). */
  readonly drainTimeoutMs?: number;
  /**
   * NATS only: the prefix of this connection's reply inboxes (default `_INBOX`). A tenant's pollers
   * and agents may only subscribe to their own inboxes (tenantInboxPrefix in src/platform/fabric).
   */
  readonly inboxPrefix?: string;
}

/** NATS when a URL is configured, otherwise the in-process bus. */
export async function createBus(config: BusConfig): Promise<Bus> {
  const url = config.natsUrl?.trim();
  if (url === undefined || url === "") {
    return new MemoryBus({
      name: config.name,
      logger: config.logger,
      ...(config.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: config.drainTimeoutMs }),
    });
  }
  return NatsBus.connect({
    url,
    name: config.name,
    logger: config.logger,
    ...(config.connectAttempts === undefined ? {} : { connectAttempts: config.connectAttempts }),
    ...(config.connectInitialDelayMs === undefined
      ? {}
      : { connectInitialDelayMs: config.connectInitialDelayMs }),
    ...(config.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: config.drainTimeoutMs }),
    ...(config.inboxPrefix === undefined ? {} : { inboxPrefix: config.inboxPrefix }),
  });
}
