import type { Logger } from "pino";
import { SondeError } from "../../lib/errors.js";
import { InFlight } from "./inflight.js";
import type { MemoryContext } from "./memory-context.js";
import { MemoryKv } from "./memory-kv.js";
import { MemoryPubSub } from "./memory-pubsub.js";
import { MemoryStreams } from "./memory-stream.js";
import { DEFAULT_DRAIN_TIMEOUT_MS } from "./options.js";
import type {
  Bus,
  BusMessage,
  ConsumeOptions,
  Consumer,
  InboundMessage,
  KvBucket,
  KvOptions,
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

export interface MemoryBusOptions {
  readonly name: string;
  readonly logger: Logger;
  /** How long close() waits for running handlers. */
  readonly drainTimeoutMs?: number;
}

/**
 * The in-process bus used by `npm start`: the same contract as the NATS adapter, without a server.
 * State lives in this instance, so durable consumers and buckets last as long as the process.
 */
export class MemoryBus implements Bus {
  readonly kind = "memory" as const;
  readonly #logger: Logger;
  readonly #inflight: InFlight;
  readonly #drainTimeoutMs: number;
  readonly #pubsub: MemoryPubSub;
  readonly #kv: MemoryKv;
  readonly #streams: MemoryStreams;
  #state: "open" | "closing" | "closed" = "open";
  #closing: Promise<void> | undefined;

  constructor(options: MemoryBusOptions) {
    this.#logger = options.logger.child({ component: "bus", bus: "memory", busName: options.name });
    this.#inflight = new InFlight(this.#logger);
    this.#drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    const ctx: MemoryContext = {
      inflight: this.#inflight,
      assertOpen: () => {
        if (this.#state === "closed") throw closed();
      },
      assertAccepting: () => {
        if (this.#state !== "open") throw closed();
      },
      defer: (fn) => {
        setImmediate(fn);
      },
    };
    this.#pubsub = new MemoryPubSub(ctx);
    this.#kv = new MemoryKv(ctx);
    this.#streams = new MemoryStreams(ctx, this.#drainTimeoutMs);
  }

  async publish(subject: string, data: Payload, opts?: PublishOptions): Promise<void> {
    this.#pubsub.publish(subject, data, opts);
  }

  subscribe(
    subject: string,
    handler: (msg: InboundMessage) => void | Promise<void>,
    opts?: SubscribeOptions,
  ): Subscription {
    return this.#pubsub.subscribe(subject, handler, opts);
  }

  async request(subject: string, data: Payload, opts: RequestOptions): Promise<BusMessage> {
    return this.#pubsub.request(subject, data, opts);
  }

  async kv(bucket: string, opts?: KvOptions): Promise<KvBucket> {
    return this.#kv.open(bucket, opts);
  }

  async ensureStream(def: StreamDefinition): Promise<void> {
    this.#streams.ensure(def);
  }

  async streamPublish(
    subject: string,
    data: Payload,
    opts: StreamPublishOptions = {},
  ): Promise<StreamPublishAck> {
    return this.#streams.publish(subject, data, opts);
  }

  async consume(
    stream: string,
    durable: string,
    handler: (msg: StreamMessage) => Promise<void> | void,
    opts: ConsumeOptions = {},
  ): Promise<Consumer> {
    return this.#streams.consume(stream, durable, handler, opts);
  }

  async ping(): Promise<void> {
    if (this.#state === "closed") throw closed();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = "closing";
    this.#pubsub.close();
    this.#kv.close();
    this.#streams.close();
    const finished = await this.#inflight.settle(this.#drainTimeoutMs);
    if (!finished) {
      this.#logger.warn(
        { running: this.#inflight.size, drainTimeoutMs: this.#drainTimeoutMs },
        "bus closed with handlers still running",
      );
    }
    this.#state = "closed";
  }
}

function closed(): SondeError {
  return new SondeError("SONDE_BUS_CLOSED", "the message bus is closed");
}
