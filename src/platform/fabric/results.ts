import type { Logger } from "pino";
import { subjectPattern } from "../bus/subjects.js";
import type { Bus, Consumer, StreamDefinition, StreamMessage, StreamPublishAck } from "../bus/types.js";
import { resultBatchSchema, resultSubject, type WorkResult, workResultSchema } from "./contract.js";

/**
 * Every tenant's results, `sonde.<tenant>.results.<partition>`. Kept a day: core consumes them within
 * seconds, the age only bounds what an outage of core can pile up. The duplicate window (2 min) is
 * what makes a re-published result with the same msgId land once.
 */
export const RESULTS_STREAM: StreamDefinition = {
  name: "SONDE_RESULTS",
  subjects: [subjectPattern("*", "results", ">")],
  maxAgeMs: 24 * 60 * 60 * 1000,
};

/** The stream's msgId for a result: one result per work id and attempt. */
export function resultMsgId(workId: string, attempt: number): string {
  return `${workId}#${attempt}`;
}

/** Creates SONDE_RESULTS or brings it to RESULTS_STREAM; pollers and consumers both call it at start. */
export function ensureResultsStream(bus: Bus): Promise<void> {
  return bus.ensureStream(RESULTS_STREAM);
}

/**
 * Publishes results of one tenant partition as one message into SONDE_RESULTS; `msgId` names the
 * batch, so that publishing it again (a lost ack) lands once.
 */
export function publishResultBatch(
  bus: Bus,
  results: readonly WorkResult[],
  msgId: string,
): Promise<StreamPublishAck> {
  const valid = resultBatchSchema.parse({ results });
  const first = valid.results[0] as WorkResult;
  if (valid.results.some((r) => r.tenant !== first.tenant || r.partition !== first.partition)) {
    throw new Error("a result batch holds one tenant partition's results");
  }
  return bus.streamPublish(resultSubject(first.tenant, first.partition), JSON.stringify(valid), { msgId });
}

/** Publishes a result into SONDE_RESULTS (which must exist: ensureResultsStream); a second publish for the same work id and attempt is dropped. */
export function publishResult(bus: Bus, result: WorkResult, attempt: number): Promise<StreamPublishAck> {
  const valid = workResultSchema.parse(result);
  return bus.streamPublish(resultSubject(valid.tenant, valid.partition), JSON.stringify(valid), {
    msgId: resultMsgId(valid.work_id, attempt),
  });
}

export interface ConsumeResultsOptions {
  /** Only one tenant's (or partition's) results, e.g. `sonde.acme.results.>`. */
  readonly filterSubject?: string;
  readonly ackWaitMs?: number;
  readonly maxDeliver?: number;
  /** A durable created now starts after the stream's last result (see ConsumeOptions.deliverNew). */
  readonly deliverNew?: boolean;
  /** Results held ready beyond the one being handled (ConsumeOptions.prefetch). */
  readonly prefetch?: number;
  /** Invalid results are logged here when given. */
  readonly logger?: Logger;
}

/**
 * Consumes SONDE_RESULTS on a durable consumer, one result at a time whether it came alone or in a
 * batch. A message is acked only after `handler` resolved for each of its results, so a handler that
 * throws (a database outage, say) gets them again after a nak — handlers must be idempotent; a
 * message that is not a valid result or batch, or whose results name another tenant than its
 * subject, is logged and terminated, since no redelivery can make it valid.
 */
export async function consumeResults(
  bus: Bus,
  durable: string,
  handler: (result: WorkResult, msg: StreamMessage) => Promise<void>,
  opts: ConsumeResultsOptions = {},
): Promise<Consumer> {
  await ensureResultsStream(bus);
  return bus.consume(
    RESULTS_STREAM.name,
    durable,
    async (msg) => {
      const body = safeJson(msg);
      const single = workResultSchema.safeParse(body);
      const batch = single.success ? undefined : resultBatchSchema.safeParse(body);
      const results = single.success
        ? [single.data]
        : batch?.success === true
          ? batch.data.results
          : undefined;
      // A result (or batch) from another tenant than its subject names is not believed.
      const tenant = msg.subject.split(".")[1];
      if (results === undefined || results.some((r) => r.tenant !== tenant)) {
        opts.logger?.warn({ subject: msg.subject, seq: msg.seq }, "dropping an invalid work result");
        msg.term();
        return;
      }
      // One at a time; a failure naks the message and the whole batch comes back (handlers are idempotent).
      for (const result of results) await handler(result, msg);
      msg.ack();
    },
    {
      ...(opts.filterSubject === undefined ? {} : { filterSubject: opts.filterSubject }),
      ...(opts.ackWaitMs === undefined ? {} : { ackWaitMs: opts.ackWaitMs }),
      ...(opts.maxDeliver === undefined ? {} : { maxDeliver: opts.maxDeliver }),
      ...(opts.deliverNew === true ? { deliverNew: true } : {}),
      ...(opts.prefetch === undefined ? {} : { prefetch: opts.prefetch }),
    },
  );
}

function safeJson(msg: StreamMessage): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}
