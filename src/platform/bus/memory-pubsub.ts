import { randomUUID } from "node:crypto";
import { SondeError } from "../../lib/errors.js";
import type { MemoryContext } from "./memory-context.js";
import { assertHeaders, Message, toBytes } from "./message.js";
import { checkRequestTimeout } from "./options.js";
import { assertPublishSubject, assertQueueName, assertSubscribeSubject, subjectMatches } from "./subjects.js";
import type {
  BusMessage,
  Headers,
  InboundMessage,
  Payload,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
  Subscription,
} from "./types.js";

type Handler = (msg: InboundMessage) => void | Promise<void>;

interface Delivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Headers | undefined;
  readonly replyTo: string | undefined;
}

interface Sub {
  readonly pattern: string;
  readonly queue: string | undefined;
  readonly handler: Handler;
  readonly backlog: Delivery[];
  active: boolean;
  scheduled: boolean;
}

interface PendingRequest {
  readonly subject: string;
  readonly resolve: (msg: BusMessage) => void;
  readonly reject: (err: SondeError) => void;
  readonly timer: NodeJS.Timeout;
}

class Inbound extends Message implements InboundMessage {
  constructor(
    delivery: Delivery,
    readonly replyTo: string | undefined,
    private readonly reply: (replyTo: string, data: Payload, headers: Headers | undefined) => void,
  ) {
    super(delivery.subject, delivery.data, delivery.headers);
  }

  respond(data: Payload, opts?: { headers?: Headers }): void {
    if (this.replyTo === undefined) {
      throw new SondeError(
        "SONDE_INTERNAL",
        `cannot respond to a message on ${this.subject}: it has no reply subject`,
      );
    }
    this.reply(this.replyTo, data, opts?.headers);
  }
}

/** Core publish/subscribe and request/reply of the in-process bus. */
export class MemoryPubSub {
  readonly #subs = new Set<Sub>();
  readonly #requests = new Map<string, PendingRequest>();
  /** Round-robin position per queue group, so members share the load evenly. */
  readonly #turn = new Map<string, number>();

  constructor(private readonly ctx: MemoryContext) {}

  publish(subject: string, data: Payload, opts: PublishOptions = {}): void {
    this.ctx.assertOpen();
    assertPublishSubject(subject);
    assertHeaders(opts.headers);
    this.#route({ subject, data: copy(data), headers: freeze(opts.headers), replyTo: undefined });
  }

  subscribe(subject: string, handler: Handler, opts: SubscribeOptions = {}): Subscription {
    this.ctx.assertAccepting();
    assertSubscribeSubject(subject);
    if (opts.queue !== undefined) assertQueueName(opts.queue);
    const sub: Sub = {
      pattern: subject,
      queue: opts.queue,
      handler,
      backlog: [],
      active: true,
      scheduled: false,
    };
    this.#subs.add(sub);
    return {
      subject,
      unsubscribe: async () => {
        this.#remove(sub);
      },
    };
  }

  request(subject: string, data: Payload, opts: RequestOptions): Promise<BusMessage> {
    this.ctx.assertOpen();
    assertPublishSubject(subject);
    assertHeaders(opts.headers);
    checkRequestTimeout(opts.timeoutMs);
    if (![...this.#subs].some((s) => s.active && subjectMatches(s.pattern, subject))) {
      throw new SondeError("SONDE_BUS_NO_RESPONDERS", `no responders for ${subject}`, { meta: { subject } });
    }
    const inbox = `_INBOX.${randomUUID().replaceAll("-", "")}`;
    return new Promise<BusMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(inbox);
        reject(
          new SondeError("SONDE_BUS_TIMEOUT", `request on ${subject} timed out after ${opts.timeoutMs} ms`, {
            meta: { subject, timeoutMs: opts.timeoutMs },
          }),
        );
      }, opts.timeoutMs);
      this.#requests.set(inbox, { subject, resolve, reject, timer });
      this.#route({ subject, data: copy(data), headers: freeze(opts.headers), replyTo: inbox });
    });
  }

  /** Stops all delivery; pending requests fail as they would when a NATS connection closes. */
  close(): void {
    for (const sub of this.#subs) this.#remove(sub);
    for (const [inbox, pending] of this.#requests) {
      clearTimeout(pending.timer);
      this.#requests.delete(inbox);
      pending.reject(
        new SondeError("SONDE_BUS_CLOSED", `bus closed while waiting for a reply on ${pending.subject}`),
      );
    }
  }

  #remove(sub: Sub): void {
    sub.active = false;
    sub.backlog.length = 0;
    this.#subs.delete(sub);
  }

  #reply = (replyTo: string, data: Payload, headers: Headers | undefined): void => {
    this.ctx.assertOpen();
    assertHeaders(headers);
    const pending = this.#requests.get(replyTo);
    if (pending === undefined) {
      // A late answer (the requester gave up) is dropped, as NATS drops it; a non-inbox reply subject is a
      // plain publish.
      if (!replyTo.startsWith("_INBOX."))
        this.publish(replyTo, data, headers === undefined ? {} : { headers });
      return;
    }
    clearTimeout(pending.timer);
    this.#requests.delete(replyTo);
    const msg = new Message(replyTo, copy(data), freeze(headers));
    this.ctx.defer(() => pending.resolve(msg));
  };

  #route(delivery: Delivery): void {
    const groups = new Map<string, Sub[]>();
    for (const sub of this.#subs) {
      if (!sub.active || !subjectMatches(sub.pattern, delivery.subject)) continue;
      if (sub.queue === undefined) {
        this.#enqueue(sub, delivery);
        continue;
      }
      // NATS forms a queue group from the subject pattern and the queue name together.
      const key = `${sub.pattern} ${sub.queue}`;
      const members = groups.get(key);
      if (members === undefined) groups.set(key, [sub]);
      else members.push(sub);
    }
    for (const [key, members] of groups) {
      const turn = (this.#turn.get(key) ?? 0) % members.length;
      this.#turn.set(key, turn + 1);
      const chosen = members[turn];
      if (chosen !== undefined) this.#enqueue(chosen, delivery);
    }
  }

  #enqueue(sub: Sub, delivery: Delivery): void {
    sub.backlog.push(delivery);
    if (sub.scheduled) return;
    sub.scheduled = true;
    this.ctx.defer(() => this.#drain(sub));
  }

  #drain(sub: Sub): void {
    sub.scheduled = false;
    while (sub.active) {
      const delivery = sub.backlog.shift();
      if (delivery === undefined) return;
      const msg = new Inbound(delivery, delivery.replyTo, this.#reply);
      this.ctx.inflight.run(() => sub.handler(msg), { subject: delivery.subject, subscription: sub.pattern });
    }
  }
}

/** Receivers get their own bytes, as they would from the network; later changes by the sender do not leak. */
function copy(data: Payload): Uint8Array {
  return typeof data === "string" ? toBytes(data) : data.slice();
}

/** NATS sends no header block for an empty set, so receivers see none. */
function freeze(headers: Headers | undefined): Headers | undefined {
  return headers === undefined || Object.keys(headers).length === 0
    ? undefined
    : Object.freeze({ ...headers });
}
