import { settleWithin } from "./inflight.js";
import type { MemoryContext } from "./memory-context.js";
import { Message } from "./message.js";
import type { NormalizedConsume } from "./options.js";
import { subjectMatches } from "./subjects.js";
import type { Consumer, Headers, StreamMessage } from "./types.js";

type Handler = (msg: StreamMessage) => Promise<void> | void;

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers | undefined;
  readonly at: number;
}

/** What a durable needs from its stream: the messages still retained, by sequence. */
export interface MessageLog {
  readonly name: string;
  lastSeq(): number;
  /** Undefined once limits (maxAge, maxMsgs) have removed the message. */
  get(seq: number): StoredMessage | undefined;
}

interface Pending {
  deliveries: number;
  timer: NodeJS.Timeout | undefined;
}

interface Member {
  readonly handler: Handler;
  busy: boolean;
  active: boolean;
  current: Promise<void> | undefined;
}

type Settlement = "ack" | "nak" | "term";

class Delivered extends Message implements StreamMessage {
  readonly seq: number;
  #settled = false;

  constructor(
    stored: StoredMessage,
    readonly deliveryCount: number,
    private readonly settle: (how: Settlement, delayMs: number) => void,
  ) {
    super(stored.subject, stored.data, stored.headers);
    this.seq = stored.seq;
  }

  get settled(): boolean {
    return this.#settled;
  }

  ack(): void {
    this.#once("ack", 0);
  }

  nak(delayMs = 0): void {
    this.#once("nak", delayMs);
  }

  term(): void {
    this.#once("term", 0);
  }

  #once(how: Settlement, delayMs: number): void {
    if (this.#settled) return;
    this.settle(how, delayMs);
    this.#settled = true;
  }
}

/**
 * A durable pull consumer with explicit ack, as JetStream runs it: one cursor over the stream, a set of
 * delivered-but-unacknowledged messages with their ackWait timers, and any number of consume() calls
 * ("members") that take turns, each handling one message at a time.
 */
export class MemoryDurable {
  /** Highest stream sequence considered for first delivery. */
  #cursor = 0;
  readonly #pending = new Map<number, Pending>();
  /** Pending sequences due for redelivery, ascending. */
  readonly #ready: number[] = [];
  readonly #members: Member[] = [];
  #turn = 0;
  #closed = false;

  constructor(
    private readonly ctx: MemoryContext,
    private readonly log: MessageLog,
    public config: NormalizedConsume,
    private readonly drainTimeoutMs: number,
  ) {}

  /** A new durable with deliverNew: what the stream holds already is not for it. */
  skipTo(seq: number): void {
    this.#cursor = seq;
  }

  attach(handler: Handler): Consumer {
    const member: Member = { handler, busy: false, active: true, current: undefined };
    this.#members.push(member);
    this.dispatch();
    return {
      stop: async () => {
        member.active = false;
        const i = this.#members.indexOf(member);
        if (i >= 0) this.#members.splice(i, 1);
        if (member.current !== undefined) await settleWithin(member.current, this.drainTimeoutMs);
      },
    };
  }

  /** Stops deliveries and timers; handlers still running may ack until the bus is closed. */
  close(): void {
    this.#closed = true;
    for (const m of this.#members) m.active = false;
    for (const p of this.#pending.values()) clearTimeout(p.timer);
  }

  /** Hands out messages while some member is idle and something is due. */
  dispatch(): void {
    if (this.#closed) return;
    for (;;) {
      const member = this.#idleMember();
      if (member === undefined) return;
      const seq = this.#next();
      if (seq === undefined) return;
      this.#deliver(member, seq);
    }
  }

  #idleMember(): Member | undefined {
    const n = this.#members.length;
    for (let i = 0; i < n; i++) {
      const m = this.#members[(this.#turn + i) % n];
      if (m?.active && !m.busy) {
        this.#turn = (this.#turn + i + 1) % n;
        return m;
      }
    }
    return undefined;
  }

  #next(): number | undefined {
    for (let seq = this.#ready.shift(); seq !== undefined; seq = this.#ready.shift()) {
      if (this.log.get(seq) !== undefined) return seq;
      this.#pending.delete(seq);
    }
    if (this.#pending.size >= this.config.maxAckPending) return undefined;
    const filter = this.config.filterSubject;
    while (this.#cursor < this.log.lastSeq()) {
      this.#cursor += 1;
      const m = this.log.get(this.#cursor);
      if (m !== undefined && (filter === undefined || subjectMatches(filter, m.subject))) return this.#cursor;
    }
    return undefined;
  }

  #deliver(member: Member, seq: number): void {
    const stored = this.log.get(seq);
    if (stored === undefined) return;
    const pending = this.#pending.get(seq) ?? { deliveries: 0, timer: undefined };
    pending.deliveries += 1;
    clearTimeout(pending.timer);
    pending.timer = setTimeout(() => this.#expire(seq), this.config.ackWaitMs).unref();
    this.#pending.set(seq, pending);
    const deliveryCount = pending.deliveries;
    const msg = new Delivered(stored, deliveryCount, (how, delayMs) =>
      this.#settle(seq, pending.deliveries === deliveryCount, how, delayMs),
    );
    member.busy = true;
    this.ctx.defer(() => {
      if (!member.active) {
        // Stopped before the handler saw it: hand it back at once rather than after ackWait.
        member.busy = false;
        if (!this.#closed) msg.nak();
        return;
      }
      const context = { stream: this.log.name, seq };
      member.current = this.ctx.inflight.run(
        () => member.handler(msg),
        context,
        () => {
          if (!msg.settled && !this.#closed) msg.nak();
        },
      );
      void member.current.then(() => {
        member.busy = false;
        member.current = undefined;
        this.dispatch();
      });
    });
  }

  /** ackWait ran out: redeliver, or give up after maxDeliver deliveries. */
  #expire(seq: number): void {
    const pending = this.#pending.get(seq);
    if (pending === undefined) return;
    pending.timer = undefined;
    if (this.#exhausted(pending)) this.#pending.delete(seq);
    else this.#makeReady(seq);
    this.dispatch();
  }

  #settle(seq: number, latest: boolean, how: Settlement, delayMs: number): void {
    this.ctx.assertOpen();
    const pending = this.#pending.get(seq);
    if (pending === undefined) return;
    if (this.#closed) {
      // Closing: record acks, but schedule nothing that would outlive the bus.
      clearTimeout(pending.timer);
      if (how !== "nak") this.#pending.delete(seq);
      return;
    }
    // A nak from a delivery already superseded by a redelivery must not queue the message twice.
    if (how === "nak" && !latest) return;
    clearTimeout(pending.timer);
    pending.timer = undefined;
    const i = this.#ready.indexOf(seq);
    if (i >= 0) this.#ready.splice(i, 1);
    if (how !== "nak" || this.#exhausted(pending)) {
      this.#pending.delete(seq);
    } else if (delayMs > 0) {
      pending.timer = setTimeout(() => {
        pending.timer = undefined;
        this.#makeReady(seq);
        this.dispatch();
      }, delayMs).unref();
    } else {
      this.#makeReady(seq);
    }
    this.dispatch();
  }

  #exhausted(pending: Pending): boolean {
    return this.config.maxDeliver > 0 && pending.deliveries >= this.config.maxDeliver;
  }

  #makeReady(seq: number): void {
    if (this.#ready.includes(seq)) return;
    this.#ready.push(seq);
    this.#ready.sort((a, b) => a - b);
  }
}
