import { SUBJECT_ROOT } from "../../bus/subjects.js";
import { CONTROL_BUCKET, REGISTRY_BUCKET } from "../contract.js";
import { assertTenantSlug } from "../certs/spiffe.js";

/**
 * What each NATS user of the fabric may publish and subscribe to. All users live in one account (the
 * `authorization` block of nats-server 2.9), so JetStream, the KV buckets and the results stream are
 * shared, and tenants are kept apart by subject permissions alone:
 *
 * - core: every Sonde subject, the whole JetStream API, every KV key and every inbox.
 * - a tenant's pollers and agents: `sonde.<tenant>.>`, their own inboxes (`_INBOX.sonde.<tenant>.>`,
 *   which the client must use as its inbox prefix), replies to requests they received
 *   (`allow_responses`), their tenant's keys of the registry (read and write) and of the control
 *   bucket (read only: core writes it), and exactly the JetStream API calls the KV client makes for
 *   those keys. KV reads go through direct get with the key in the subject and watches through the
 *   consumer-create subject that carries the filter (both nats-server 2.9), which is what makes them
 *   subject-checkable; a read by sequence, a listing without a key filter or an unfiltered watch is
 *   refused. Tenants open the buckets with `bind` (no stream info: with a subjects filter it lists
 *   every tenant's key names).
 */

export interface NatsPermissions {
  readonly publish: readonly string[];
  readonly subscribe: readonly string[];
  /** May publish to the reply subject of each message it receives (once, within the server's expiry). */
  readonly allowResponses: boolean;
}

export const CORE_USER = "sonde-core";

export function tenantUser(tenant: string): string {
  return `sonde-tenant-${tenant}`;
}

/** The inbox prefix a tenant's clients must connect with (nats.js `inboxPrefix`); see BusConfig.inboxPrefix. */
export function tenantInboxPrefix(tenant: string): string {
  assertTenantSlug(tenant);
  return `_INBOX.${SUBJECT_ROOT}.${tenant}`;
}

export function corePermissions(): NatsPermissions {
  const all = [`${SUBJECT_ROOT}.>`, "$JS.API.>", "$KV.>", "_INBOX.>"];
  return {
    // Acks and flow-control replies of the durable consumers core reads (results, sync).
    publish: [...all, "$JS.ACK.>", "$JS.FC.>"],
    subscribe: all,
    allowResponses: false,
  };
}

/** The JetStream API subjects for reading (and, when `write`, writing) one tenant's keys of a bucket. */
function bucketSubjects(bucket: string, tenant: string, write: boolean): string[] {
  const stream = `KV_${bucket}`;
  const keys = `$KV.${bucket}.${tenant}.>`;
  return [
    ...(write ? [keys] : []),
    `$JS.API.DIRECT.GET.${stream}.${keys}`,
    `$JS.API.CONSUMER.CREATE.${stream}.*.${keys}`,
    `$JS.API.CONSUMER.INFO.${stream}.*`,
    `$JS.API.CONSUMER.DELETE.${stream}.*`,
  ];
}

export function tenantPermissions(tenant: string): NatsPermissions {
  assertTenantSlug(tenant);
  const own = `${SUBJECT_ROOT}.${tenant}.>`;
  const inbox = `${tenantInboxPrefix(tenant)}.>`;
  return {
    publish: [
      own,
      // The client's JetStream check when it connects (account limits and usage; no stream contents).
      "$JS.API.INFO",
      ...bucketSubjects(REGISTRY_BUCKET, tenant, true),
      ...bucketSubjects(CONTROL_BUCKET, tenant, false),
    ],
    subscribe: [own, inbox],
    allowResponses: true,
  };
}
