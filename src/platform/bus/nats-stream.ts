import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { type InFlight, settleWithin } from "./inflight.js";
import { Message } from "./message.js";
import { fromNats, JsCode, jsApiCode } from "./nats-errors.js";
import { fromNatsHeaders } from "./nats-message.js";
import type { NormalizedConsume, NormalizedStream } from "./options.js";
import type { Consumer, StreamMessage } from "./types.js";

export interface NatsStreamDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly inflight: InFlight;
  readonly logger: Logger;
  readonly drainTimeoutMs: number;
  assertOpen(): void;
}

/** A consume() call as close() sees it: first stop intake for all, then wait for all. */
export interface NatsConsumerHandle extends Consumer {
  halt(): void;
}

export async function ensureNatsStream(jsm: JetStreamManager, def: NormalizedStream): Promise<void> {
  const config = {
    subjects: [...def.subjects],
    max_age: nanos(def.maxAgeMs ?? 0),
    max_msgs: def.maxMsgs ?? -1,
    duplicate_window: nanos(def.duplicateWindowMs),
  };
  try {
    try {
      await jsm.streams.info(def.name);
    } catch (err) {
      if (jsApiCode(err) !== JsCode.StreamNotFound) throw err;
      await jsm.streams.add({ name: def.name, ...config });
      return;
    }
    await jsm.streams.update(def.name, config);
  } catch (err) {
    throw fromNats(err, `ensuring stream ${def.name}`, { stream: def.name });
  }
}

class NatsStreamMessage extends Message implements StreamMessage {
  readonly seq: number;
  readonly deliveryCount: number;
  #settled = false;

  constructor(
    private readonly m: JsMsg,
    private readonly assertOpen: () => void,
  ) {
    super(m.subject, m.data, fromNatsHeaders(m.headers));
    this.seq = m.seq;
    this.deliveryCount = m.info.deliveryCount;
  }

  get settled(): boolean {
    return this.#settled;
  }

  ack(): void {
    this.#once("ack", () => this.m.ack());
  }

  nak(delayMs?: number): void {
    this.#once("nak", () => (delayMs !== undefined && delayMs > 0 ? this.m.nak(delayMs) : this.m.nak()));
  }

  term(): void {
    this.#once("term", () => this.m.term());
  }

  #once(what: string, fn: () => void): void {
    if (this.#settled) return;
    this.assertOpen();
    try {
      fn();
    } catch (err) {
      throw fromNats(err, `${what} of message ${this.seq} on ${this.subject}`);
    }
    this.#settled = true;
  }
}

function consumerConfig(durable: string, opts: NormalizedConsume): Partial<ConsumerConfig> {
  return {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: opts.deliverNew ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: nanos(opts.ackWaitMs),
    max_deliver: opts.maxDeliver,
    max_ack_pending: opts.maxAckPending,
    ...(opts.filterSubject === undefined ? {} : { filter_subject: opts.filterSubject }),
  };
}

/** Creates the durable or brings it to the given settings; servers from 2.10 refuse a plain re-create. */
async function ensureDurable(
  jsm: JetStreamManager,
  stream: string,
  durable: string,
  opts: NormalizedConsume,
): Promise<void> {
  const config = consumerConfig(durable, opts);
  try {
    await jsm.consumers.add(stream, config);
  } catch (err) {
    if (jsApiCode(err) !== JsCode.ConsumerAlreadyExists) throw err;
    const { ack_wait, max_deliver, max_ack_pending } = config;
    await jsm.consumers.update(stream, durable, { ack_wait, max_deliver, max_ack_pending });
  }
}

const NOTEWORTHY = new Set([
  "heartbeats_missed",
  "consumer_not_found",
  "stream_not_found",
  "consumer_deleted",
]);

export async function startNatsConsumer(
  deps: NatsStreamDeps,
  stream: string,
  durable: string,
  opts: NormalizedConsume,
  handler: (msg: StreamMessage) => Promise<void> | void,
): Promise<NatsConsumerHandle> {
  const where = { stream, durable };
  let messages: ConsumerMessages;
  try {
    await ensureDurable(deps.jsm, stream, durable, opts);
    const consumer = await deps.js.consumers.get(stream, durable);
    // One message at a time unless asked: a larger batch lets this instance hoard messages another
    // consume() on the same durable could be handling, and a slow handler lets their ackWait run out.
    messages = await consumer.consume({ max_messages: opts.prefetch });
  } catch (err) {
    throw fromNats(err, `consuming ${stream}/${durable}`, where);
  }
  let stopping = false;
  const loop = (async () => {
    for await (const m of messages) {
      if (stopping) {
        // Pulled just before stop: hand it back now instead of after ackWait.
        m.nak();
        continue;
      }
      const msg = new NatsStreamMessage(m, deps.assertOpen);
      await deps.inflight.run(
        () => handler(msg),
        { ...where, seq: msg.seq },
        () => {
          if (!msg.settled) msg.nak();
        },
      );
    }
  })().catch((err: unknown) => deps.logger.error({ err, ...where }, "stream consumer stopped"));
  void (async () => {
    for await (const s of messages.status()) {
      if (NOTEWORTHY.has(s.type)) deps.logger.warn({ ...where, status: s }, "stream consumer status");
    }
  })().catch(() => undefined);
  const halt = () => {
    if (stopping) return;
    stopping = true;
    void messages.close().catch(() => undefined);
  };
  return {
    halt,
    stop: async () => {
      halt();
      await settleWithin(loop, deps.drainTimeoutMs);
    },
  };
}
