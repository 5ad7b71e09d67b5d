/**
 * After a write committed: the action's `afterCommit` (mail a link…), then what the caller gets of the
 * action's output. Both happen outside the transaction; a failing `afterCommit` is logged and reported
 * in the output, never thrown, because the write it follows stands.
 */
import type { Logger } from "pino";
import type { Actor } from "../actor.js";
import type { KernelServices } from "../services.js";
import type { NamedAction } from "./authorize.js";

export interface Committed {
  readonly action: NamedAction;
  readonly resourceName: string;
  readonly record: Readonly<Record<string, unknown>>;
  readonly output: ReadonlyMap<string, unknown>;
  readonly actor: Actor;
  readonly tenantId: string | null;
}

export async function afterCommit(
  c: Committed,
  services: KernelServices,
  logger: Logger,
  receive: ((output: Record<string, unknown>) => void) | undefined,
): Promise<void> {
  const shown: Record<string, unknown> = {};
  for (const key of c.action.output ?? []) if (c.output.has(key)) shown[key] = c.output.get(key);
  if (c.action.afterCommit !== undefined) {
    try {
      const extra = await c.action.afterCommit({
        record: c.record,
        output: c.output,
        actor: c.actor,
        tenantId: c.tenantId,
        services,
      });
      Object.assign(shown, extra ?? {});
    } catch (err) {
      logger.error(
        { err, resource: c.resourceName, action: c.action.name, id: c.record.id },
        "after-commit step failed; the write stands",
      );
      shown.after_commit = "failed";
    }
  }
  receive?.(shown);
}
