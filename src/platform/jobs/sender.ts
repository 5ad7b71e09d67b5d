import { SondeError } from "../../lib/errors.js";
import { type AnyJobDefinition, indexDefinitions, type JobInput } from "./registry.js";
import type { JobQueue } from "./types.js";

/** Sends a job by name: the shape of the kernel's `JobSender` (KernelServices.jobs). */
export interface NamedJobSender {
  send(
    name: string,
    payload: Record<string, unknown>,
    opts?: { readonly singletonKey?: string },
  ): Promise<void>;
}

/**
 * A send-by-name front for a queue, for actions' `afterCommit` (resources name the job they enqueue;
 * they do not hold the queue). The queue still validates every payload against the job's definition;
 * a name outside `definitions` is SONDE_JOB_UNKNOWN_QUEUE.
 */
export function namedJobSender<D extends AnyJobDefinition>(
  queue: Pick<JobQueue<D>, "send">,
  definitions: readonly D[],
): NamedJobSender {
  const byName = indexDefinitions(definitions);
  return {
    async send(name, payload, opts = {}) {
      const def = byName.get(name) as D | undefined;
      if (def === undefined) {
        throw new SondeError("SONDE_JOB_UNKNOWN_QUEUE", `no job "${name}" on this queue`, {
          meta: { job: name },
        });
      }
      const options = opts.singletonKey !== undefined ? { singletonKey: opts.singletonKey } : {};
      await queue.send(def, payload as JobInput<D>, options);
    },
  };
}
