import { SondeError } from "../../../lib/errors.js";
import { actorId } from "../../../kernel/actor.js";
import type { AfterCommitEvent } from "../../../kernel/resource/types.js";
import { CONTROL_BUCKET, type ControlEntry } from "../../../platform/fabric/contract.js";
import type { PollerIntent } from "../infrastructure.schema.js";

/**
 * After an operator action committed: the poller's intent goes into its `sonde-control` key
 * (`<tenant>.poller.<partition>.<id>`, the `registry_key` calculation), which the poller watches.
 * Written after commit so that a rolled-back action tells the poller nothing; a failed write is
 * reported as `after_commit: "failed"` and the action can be run again (it writes the same key).
 */
export async function writeControl(event: AfterCommitEvent): Promise<Record<string, unknown>> {
  const bus = event.services.bus;
  if (bus === undefined)
    throw new SondeError("SONDE_CONFIG_INVALID", "poller actions need the bus (KernelServices.bus)");
  const key = event.record.registry_key;
  const mode = event.record.intent as PollerIntent;
  if (typeof key !== "string")
    throw new SondeError("SONDE_INTERNAL", "a poller record came back without its registry key");
  const entry: ControlEntry = { mode, changedAt: new Date().toISOString(), actor: actorId(event.actor) };
  const kv = await bus.kv(CONTROL_BUCKET);
  await kv.put(key, JSON.stringify(entry));
  return { control: { key, mode } };
}
