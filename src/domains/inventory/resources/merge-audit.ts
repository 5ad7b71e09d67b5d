import { actorId } from "../../../kernel/actor.js";
import { actionName, authorizeIf, policy, roleAtLeast } from "../../../kernel/policy/checks.js";
import { membersRead } from "../../../kernel/policy/role-matrix.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { Change, ResourceRef, WithinEvent } from "../../../kernel/resource/types.js";
import { SondeError } from "../../../lib/errors.js";
import { forgetTenantIdentities } from "../dire/forget-identities.js";
import { unmergeDevice } from "../dire/unmerge.js";
import { MERGE_OUTCOMES, mergeAudits } from "../inventory.schema.js";
import { deviceResource } from "./device.js";

const unmergedBy: Change = (values, ctx) => ({
  ...values,
  unmerged_at: new Date(),
  unmerged_by: actorId(ctx.actor),
});

/** The device and identifier writes of an unmerge, in the action's transaction (dire/unmerge.ts). */
async function restoreDevice(event: WithinEvent): Promise<void> {
  if (event.tenantId === null) {
    throw new SondeError("SONDE_BAD_REQUEST", "an unmerge acts in one tenant: name it");
  }
  const r = event.record;
  await unmergeDevice(event.tx, event.tenantId, {
    from_device_id: String(r.from_device_id),
    to_device_id: String(r.to_device_id),
    identifiers: r.identifiers,
    snapshot: r.snapshot,
  });
}

/**
 * The history of DIRE's merges: one row per merge of one device into another (`merged`, with the
 * identifiers moved and a snapshot of the merged device), and one per merge DIRE refused (`blocked`,
 * e.g. on MAC-only evidence). Rows are written by DIRE, never through the API; an admin may undo a
 * merge (`unmerge`), which restores the merged device and gives its identifiers back.
 */
export const mergeAuditResource = defineResource({
  name: "merge_audit",
  table: mergeAudits,
  tenancy: "tenant",
  relationships: {
    from_device: {
      kind: "belongs_to",
      resource: (): ResourceRef => deviceResource,
      sourceField: "from_device_id",
    },
    to_device: {
      kind: "belongs_to",
      resource: (): ResourceRef => deviceResource,
      sourceField: "to_device_id",
    },
  },
  actions: {
    read: { type: "read" },
    unmerge: {
      type: "update",
      route: "unmerge",
      changes: [unmergedBy],
      within: restoreDevice,
      afterCommit: forgetTenantIdentities,
      description:
        "Undoes the merge: the merged device is restored from its snapshot and gets its identifiers back.",
    },
  },
  stateMachine: {
    attribute: "outcome",
    initial: "merged",
    states: MERGE_OUTCOMES,
    // A blocked merge never happened: there is nothing to undo.
    transitions: [{ action: "unmerge", from: ["merged"], to: "unmerged" }],
  },
  policies: [...membersRead, policy(actionName("unmerge"), authorizeIf(roleAtLeast("admin")))],
  events: true,
  description: "Merges DIRE made or refused, and their undoing.",
});
