import { type JetStreamClient, type JetStreamManager, jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { SondeError } from "../../lib/errors.js";
import { InFlight, settleWithin } from "./inflight.js";
import { assertHeaders, Message, toBytes } from "./message.js";
import { connectNats, parseNatsUrl, reasonOf } from "./nats-connect.js";
import { fromNats } from "./nats-errors.js";
import { openNatsKv } from "./nats-kv.js";
import { fromNatsHeaders, NatsInbound, toNatsHeaders } from "./nats-message.js";
import { ensureNatsStream, type NatsConsumerHandle, startNatsConsumer } from "./nats-stream.js";
import {
  checkRequestTimeout,
  DEFAULT_DRAIN_TIMEOUT_MS,
  normalizeConsume,
  normalizeStream,
} from "./options.js";
import { assertPublishSubject, assertQueueName, assertSubscribeSubject } from "./subjects.js";
import type {
  Bus,
  BusMessage,
  ConsumeOptions,
  Consumer,
  InboundMessage,
  KvBucket,
  KvOptions,
  KvWatcher,
  Payload,
  PublishOptions,
  RequestOptions,
  StreamDefinition,
  StreamMessage,
  StreamPublishAck,
  StreamPublishOptions,
  SubscribeOptions,
  Subscription,
} from "./types.js";

export interface NatsBusOptions {
  /** One or more comma-separated nats:// or tls:// URLs, credentials allowed in the URL. */
  readonly url: string;
  readonly name: string;
  readonly logger: Logger;
  readonly connectAttempts?: number;
  readonly connectInitialDelayMs?: number;
  readonly drainTimeoutMs?: number;
  readonly pingTimeoutMs?: number;
  /** Prefix of reply inboxes, KV watchers and push consumers (default `_INBOX`). */
  readonly inboxPrefix?: string;
}

function closedError(): SondeError {
  return new SondeError("SONDE_BUS_CLOSED", "the message bus is closed");
}

/** The bus over NATS core (publish, subscribe, request) and JetStream (KV, streams, consumers). */
export class NatsBus implements Bus {
  readonly kind = "nats" as const;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #logger: Logger;
  readonly #inflight: InFlight;
  readonly #drainTimeoutMs: number;
  readonly #pingTimeoutMs: number;
  readonly #display: string;
  readonly #subs = new Set<{ unsubscribe(): void }>();
  readonly #consumers = new Set<NatsConsumerHandle>();
  readonly #watchers = new Set<KvWatcher>();
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;

  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const target = parseNatsUrl(options.url);
    const logger = options.logger.child({ component: "bus", bus: "nats", busName: options.name });
    const { nc, jsm } = await connectNats(target, {
      name: options.name,
      logger,
      ...(options.connectAttempts === undefined ? {} : { attempts: options.connectAttempts }),
      ...(options.connectInitialDelayMs === undefined
        ? {}
        : { initialDelayMs: options.connectInitialDelayMs }),
      ...(options.inboxPrefix === undefined ? {} : { inboxPrefix: options.inboxPrefix }),
    });
    logger.info({ url: target.display, server: nc.info?.version }, "connected to NATS");
    return new NatsBus(nc, jsm, logger, target.display, options);
  }

  private constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    logger: Logger,
    display: string,
    options: NatsBusOptions,
  ) {
    this.#nc = nc;
    this.#js = jetstream(nc);
    this.#jsm = jsm;
    this.#logger = logger;
    this.#display = display;
    this.#inflight = new InFlight(logger);
    this.#drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.#pingTimeoutMs = options.pingTimeoutMs ?? 2_000;
    void this.#watchStatus();
    void nc.closed().then((err) => {
      if (this.#state === "closed") return;
      this.#state = "closed";
      this.#logger.error({ reason: err === undefined ? undefined : reasonOf(err) }, "NATS connection closed");
    });
  }

  async #watchStatus(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnecting")
        this.#logger.warn({ status: s.type }, "NATS connection lost");
      else if (s.type === "reconnect") this.#logger.info({ status: s.type }, "NATS connection restored");
      else if (s.type === "error" || s.type === "slowConsumer")
        this.#logger.warn({ status: s }, "NATS client problem");
    }
  }

  #assertOpen = (): void => {
    if (this.#state === "closed") throw closedError();
  };

  #assertAccepting = (): void => {
    if (this.#state !== "open") throw closedError();
  };

  async publish(subject: string, data: Payload, opts: PublishOptions = {}): Promise<void> {
    this.#assertOpen();
    assertPublishSubject(subject);
    assertHeaders(opts.headers);
    try {
      this.#nc.publish(subject, toBytes(data), { headers: toNatsHeaders(opts.headers) });
    } catch (err) {
      throw fromNats(err, `publishing on ${subject}`, { subject });
    }
  }

  subscribe(
    subject: string,
    handler: (msg: InboundMessage) => void | Promise<void>,
    opts: SubscribeOptions = {},
  ): Subscription {
    this.#assertAccepting();
    assertSubscribeSubject(subject);
    if (opts.queue !== undefined) assertQueueName(opts.queue);
    const sub = this.#nc.subscribe(subject, {
      ...(opts.queue === undefined ? {} : { queue: opts.queue }),
      callback: (err, msg) => {
        if (err !== null) {
          this.#logger.error({ err, subject }, "subscription failed");
          return;
        }
        const inbound = new NatsInbound(msg, this.#assertOpen);
        this.#inflight.run(() => handler(inbound), { subject: msg.subject, subscription: subject });
      },
    });
    this.#subs.add(sub);
    return {
      subject,
      unsubscribe: async () => {
        if (!this.#subs.delete(sub)) return;
        sub.unsubscribe();
        // Make sure the server has seen the UNSUB before the caller relies on it.
        if (!this.#nc.isClosed()) await this.#nc.flush().catch(() => undefined);
      },
    };
  }

  async request(subject: string, data: Payload, opts: RequestOptions): Promise<BusMessage> {
    this.#assertOpen();
    assertPublishSubject(subject);
    assertHeaders(opts.headers);
    checkRequestTimeout(opts.timeoutMs);
    try {
      const reply = await this.#nc.request(subject, toBytes(data), {
        timeout: opts.timeoutMs,
        headers: toNatsHeaders(opts.headers),
      });
      return new Message(reply.subject, reply.data, fromNatsHeaders(reply.headers));
    } catch (err) {
      const e = fromNats(err, `request on ${subject}`, { subject, timeoutMs: opts.timeoutMs });
      if (e.code !== "SONDE_BUS_TIMEOUT") throw e;
      throw new SondeError(
        "SONDE_BUS_TIMEOUT",
        `request on ${subject} timed out after ${opts.timeoutMs} ms`,
        {
          meta: { subject, timeoutMs: opts.timeoutMs },
          cause: err,
        },
      );
    }
  }

  kv(bucket: string, opts?: KvOptions): Promise<KvBucket> {
    return openNatsKv(
      {
        js: this.#js,
        jsm: this.#jsm,
        inflight: this.#inflight,
        assertOpen: this.#assertOpen,
        assertAccepting: this.#assertAccepting,
        track: (w) => {
          this.#watchers.add(w);
          return () => this.#watchers.delete(w);
        },
      },
      bucket,
      opts,
    );
  }

  async ensureStream(def: StreamDefinition): Promise<void> {
    this.#assertOpen();
    await ensureNatsStream(this.#jsm, normalizeStream(def));
  }

  async streamPublish(
    subject: string,
    data: Payload,
    opts: StreamPublishOptions = {},
  ): Promise<StreamPublishAck> {
    this.#assertOpen();
    assertPublishSubject(subject);
    assertHeaders(opts.headers);
    try {
      const ack = await this.#js.publish(subject, toBytes(data), {
        ...(opts.msgId === undefined ? {} : { msgID: opts.msgId }),
        ...(opts.headers === undefined ? {} : { headers: toNatsHeaders(opts.headers) }),
      });
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      const e = fromNats(err, `publishing on ${subject}`, { subject });
      if (e.code !== "SONDE_BUS_NO_RESPONDERS") throw e;
      throw new SondeError("SONDE_BUS_NO_RESPONDERS", `no stream captures subject ${subject}`, {
        meta: { subject },
        cause: err,
      });
    }
  }

  async consume(
    stream: string,
    durable: string,
    handler: (msg: StreamMessage) => Promise<void> | void,
    opts: ConsumeOptions = {},
  ): Promise<Consumer> {
    this.#assertAccepting();
    const config = normalizeConsume(stream, durable, opts);
    const handle = await startNatsConsumer(
      {
        js: this.#js,
        jsm: this.#jsm,
        inflight: this.#inflight,
        logger: this.#logger,
        drainTimeoutMs: this.#drainTimeoutMs,
        assertOpen: this.#assertOpen,
      },
      stream,
      durable,
      config,
      handler,
    );
    this.#consumers.add(handle);
    return {
      stop: async () => {
        this.#consumers.delete(handle);
        await handle.stop();
      },
    };
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    if (this.#nc.isClosed()) throw closedError();
    let failure: unknown;
    const answered = await settleWithin(
      this.#nc.flush().catch((err: unknown) => {
        failure = err;
      }),
      this.#pingTimeoutMs,
    );
    if (!answered || failure !== undefined) {
      const why = failure === undefined ? `no answer within ${this.#pingTimeoutMs} ms` : reasonOf(failure);
      throw new SondeError("SONDE_BUS_UNREACHABLE", `NATS at ${this.#display} is not answering: ${why}`, {
        meta: { url: this.#display },
        ...(failure === undefined ? {} : { cause: failure }),
      });
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#state === "open") this.#state = "closing";
    for (const sub of this.#subs) sub.unsubscribe();
    this.#subs.clear();
    for (const c of this.#consumers) c.halt();
    await Promise.allSettled([...this.#watchers].map((w) => w.stop()));
    await Promise.allSettled([...this.#consumers].map((c) => c.stop()));
    this.#consumers.clear();
    const finished = await this.#inflight.settle(this.#drainTimeoutMs);
    if (!finished) {
      this.#logger.warn(
        { running: this.#inflight.size, drainTimeoutMs: this.#drainTimeoutMs },
        "bus closed with handlers still running",
      );
    }
    this.#state = "closed";
    if (this.#nc.isClosed()) return;
    try {
      await this.#nc.drain();
    } catch (err) {
      this.#logger.warn({ reason: reasonOf(err) }, "NATS drain failed; closing");
      await this.#nc.close().catch(() => undefined);
    }
  }
}
