/**
 * The message bus as the rest of Sonde sees it. Two adapters implement it — NATS JetStream (`nats.ts`)
 * and an in-process bus (`memory.ts`) — and both pass the same contract suite
 * (`test/contract/bus.contract.ts`), so code written against this interface behaves the same in the
 * single-process and the distributed deployment.
 *
 * Errors are `SondeError`s from the catalogue: SONDE_BUS_INVALID_SUBJECT, SONDE_BUS_NO_RESPONDERS,
 * SONDE_BUS_TIMEOUT, SONDE_KV_REVISION_MISMATCH, SONDE_BUS_CLOSED, SONDE_BUS_UNREACHABLE, plus
 * SONDE_NOT_FOUND (stream or bucket missing), SONDE_CONFIG_INVALID (bad stream/bucket/consumer
 * settings), SONDE_CONFLICT (stream subjects overlap) and SONDE_BAD_REQUEST (bad header, bad JSON).
 */

/** Strings are UTF-8 encoded. */
export type Payload = Uint8Array | string;
export type Headers = Readonly<Record<string, string>>;

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers | undefined;
  text(): string;
  /** Parses the payload; invalid JSON raises SONDE_BAD_REQUEST. */
  json<T = unknown>(): T;
}

export interface InboundMessage extends BusMessage {
  /** Present when the sender used request(). */
  readonly replyTo: string | undefined;
  /** Answers a request; raises SONDE_INTERNAL when the message has no reply subject. */
  respond(data: Payload, opts?: { headers?: Headers }): void;
}

export interface Subscription {
  readonly subject: string;
  /** Stops delivery at once; messages not yet handed to the handler are dropped (as NATS does). */
  unsubscribe(): Promise<void>;
}

export interface PublishOptions {
  readonly headers?: Headers;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to exactly one member of the group. */
  readonly queue?: string;
}

export interface RequestOptions {
  readonly timeoutMs: number;
  readonly headers?: Headers;
}

export interface KvOptions {
  /** Bucket-level TTL: an entry disappears this long after its last put (NATS 2.9 has no per-key TTL). */
  readonly ttlMs?: number;
  /** Revisions kept per key (1-64). */
  readonly history?: number;
  /**
   * Use the bucket as it exists, without creating it or reading and reconciling its settings (no
   * ttlMs or history then). For users whose permissions reach only their own keys, such as a
   * tenant's pollers: NATS then needs no stream-info call, which would list every key's name. Whether
   * the bucket exists is not checked: on NATS, operations on a missing one time out or find no
   * responders; on the in-process bus they fail with SONDE_NOT_FOUND.
   */
  readonly bind?: boolean;
}

export interface StreamDefinition {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly maxAgeMs?: number;
  readonly maxMsgs?: number;
  /** Window in which a repeated msgId is reported as a duplicate; defaults to min(2 min, maxAgeMs). */
  readonly duplicateWindowMs?: number;
}

export interface StreamPublishOptions {
  readonly msgId?: string;
  readonly headers?: Headers;
}

export interface StreamPublishAck {
  readonly stream: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

export interface ConsumeOptions {
  readonly filterSubject?: string;
  /** Redelivery delay for a message that was neither acked nor nak'd (default 30 s). */
  readonly ackWaitMs?: number;
  /** Deliveries after which a message is given up (default unlimited). */
  readonly maxDeliver?: number;
  /** Unacknowledged messages the durable may have out at once (default 1000). */
  readonly maxAckPending?: number;
  /**
   * A durable created by this call starts after the stream's last message instead of its first
   * (JetStream's deliver policy "new"); an existing durable keeps its position.
   */
  readonly deliverNew?: boolean;
  /**
   * Messages this consume() call may hold ready beyond the one its handler runs (default 1: none).
   * More saves a server round trip per message for fast handlers; they still run one at a time, in
   * order, and each waits in the buffer within its ackWait.
   */
  readonly prefetch?: number;
}

export interface Bus {
  readonly kind: "nats" | "memory";
  publish(subject: string, data: Payload, opts?: PublishOptions): Promise<void>;
  /**
   * Wildcards `*` (one token) and `>` (one or more trailing tokens). Handlers of one subscription are
   * invoked in arrival order; an async handler is not awaited before the next message is handed over
   * (as with NATS). A throwing handler is logged and the subscription carries on.
   */
  subscribe(
    subject: string,
    handler: (msg: InboundMessage) => void | Promise<void>,
    opts?: SubscribeOptions,
  ): Subscription;
  /** No subscriber → SONDE_BUS_NO_RESPONDERS; no answer within timeoutMs → SONDE_BUS_TIMEOUT. */
  request(subject: string, data: Payload, opts: RequestOptions): Promise<BusMessage>;
  /** Opens or creates a bucket; given options are applied to an existing bucket too. */
  kv(bucket: string, opts?: KvOptions): Promise<KvBucket>;
  /** Creates the stream or brings an existing one to this definition. */
  ensureStream(def: StreamDefinition): Promise<void>;
  /** A subject no stream captures → SONDE_BUS_NO_RESPONDERS. */
  streamPublish(subject: string, data: Payload, opts?: StreamPublishOptions): Promise<StreamPublishAck>;
  /**
   * Durable pull consumer with explicit ack. Consumer state survives stop(); two consume() calls on the
   * same durable share the work. Handlers of one consume() run one at a time, in delivery order; run
   * more consume() calls to process in parallel. A message the handler neither acks, naks nor terms is
   * redelivered after ackWait; a handler that throws has its unsettled message nak'd.
   */
  consume(
    stream: string,
    durable: string,
    handler: (msg: StreamMessage) => Promise<void> | void,
    opts?: ConsumeOptions,
  ): Promise<Consumer>;
  /** Health check for /readyz: throws when the bus is not usable. */
  ping(): Promise<void>;
  /**
   * Stops taking messages (subscribe/consume/watch now raise SONDE_BUS_CLOSED), waits a bounded time
   * for running handlers — which may still publish, respond and ack — then closes. Idempotent.
   */
  close(): Promise<void>;
}

export interface StreamMessage extends BusMessage {
  /** Stream sequence. */
  readonly seq: number;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
  ack(): void;
  /** Asks for redelivery, after delayMs when given. */
  nak(delayMs?: number): void;
  /** Never deliver this message again. */
  term(): void;
}

export interface Consumer {
  /** Stops this consume() call; resolves when its running handler (if any) has finished (bounded). */
  stop(): Promise<void>;
}

export interface KvEntry {
  readonly key: string;
  readonly value: Uint8Array;
  /** Bucket-wide, strictly increasing. */
  readonly revision: number;
  readonly operation: "PUT" | "DEL";
  readonly updatedAt: Date;
  text(): string;
  json<T = unknown>(): T;
}

export interface KvWatchOptions {
  /** Key or key pattern (`*`, `>`); all keys when absent. */
  readonly key?: string;
  /**
   * Deliver the current entry of every matching key first (including deletion markers), then
   * changes. Only the latest revision per key is delivered, not every past one.
   */
  readonly includeHistory?: boolean;
}

export interface KvWatcher {
  stop(): Promise<void>;
}

export interface KvBucket {
  readonly name: string;
  /** Null for missing, deleted or expired keys. */
  get(key: string): Promise<KvEntry | null>;
  /** Returns the new revision. */
  put(key: string, value: Payload): Promise<number>;
  /** SONDE_KV_REVISION_MISMATCH if the key exists (and is not deleted). */
  create(key: string, value: Payload): Promise<number>;
  /** Compare-and-set; SONDE_KV_REVISION_MISMATCH when the key is not at expectedRevision. */
  update(key: string, value: Payload, expectedRevision: number): Promise<number>;
  delete(key: string): Promise<void>;
  /** Live keys, optionally matching a pattern. */
  keys(filter?: string): Promise<string[]>;
  /** Delivers PUT and DEL entries in revision order. */
  watch(handler: (entry: KvEntry) => void, opts?: KvWatchOptions): Promise<KvWatcher>;
  /** Deletes the bucket (tests, admin). */
  destroy(): Promise<void>;
}
