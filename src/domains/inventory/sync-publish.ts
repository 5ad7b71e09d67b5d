/**
 * How pollers and edge collectors send device updates to core: into the SONDE_SYNC stream under
 * their tenant's subject. Database-free, so edge processes can import it. A stream publish (not a
 * plain publish) is acknowledged once the stream holds the message, on both bus adapters, and a
 * msgId makes a retried publish a duplicate instead of a second message.
 */
import { subjectFor } from "../../platform/bus/subjects.js";
import type { Bus, StreamPublishAck } from "../../platform/bus/types.js";

export const SYNC_AREA = "sync";

/** The subject of a tenant's sync stream: `sonde.<slug>.sync`. */
export function syncSubject(tenantSlug: string): string {
  return subjectFor(tenantSlug, SYNC_AREA);
}

/**
 * Publishes updates (an array, one update, or a ready-made JSON/NDJSON payload) for the tenant.
 * Keep each message well under the bus's payload limit (NATS: 1 MiB by default): split larger
 * inventories into several messages.
 */
export function publishDeviceUpdates(
  bus: Bus,
  tenantSlug: string,
  updates: readonly object[] | object | string | Uint8Array,
  opts: { readonly msgId?: string } = {},
): Promise<StreamPublishAck> {
  const payload =
    typeof updates === "string" || updates instanceof Uint8Array ? updates : JSON.stringify(updates);
  return bus.streamPublish(
    syncSubject(tenantSlug),
    payload,
    opts.msgId === undefined ? {} : { msgId: opts.msgId },
  );
}
