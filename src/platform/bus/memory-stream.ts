import { SondeError } from "../../lib/errors.js";
import { MemoryDurable, type MessageLog, type StoredMessage } from "./memory-consumer.js";
import type { MemoryContext } from "./memory-context.js";
import { assertHeaders, toBytes } from "./message.js";
import { type NormalizedStream, normalizeConsume, normalizeStream } from "./options.js";
import { assertPublishSubject, patternsOverlap, subjectMatches } from "./subjects.js";
import type {
  ConsumeOptions,
  Consumer,
  Payload,
  StreamDefinition,
  StreamMessage,
  StreamPublishAck,
  StreamPublishOptions,
} from "./types.js";

/** One stream: retained messages under its limits, recent msgIds, and its durables. */
class MemoryStream implements MessageLog {
  #lastSeq = 0;
  /** In sequence order, so the oldest come first when limits trim. */
  readonly #messages = new Map<number, StoredMessage>();
  readonly #msgIds = new Map<string, { readonly seq: number; readonly at: number }>();
  readonly durables = new Map<string, MemoryDurable>();

  constructor(public def: NormalizedStream) {}

  get name(): string {
    return this.def.name;
  }

  lastSeq(): number {
    return this.#lastSeq;
  }

  get(seq: number): StoredMessage | undefined {
    this.trim();
    return this.#messages.get(seq);
  }

  captures(subject: string): boolean {
    return this.def.subjects.some((p) => subjectMatches(p, subject));
  }

  append(subject: string, data: Payload, opts: StreamPublishOptions): StreamPublishAck {
    this.trim();
    if (opts.msgId !== undefined) {
      const seen = this.#msgIds.get(opts.msgId);
      if (seen !== undefined) return { stream: this.name, seq: seen.seq, duplicate: true };
    }
    const now = Date.now();
    const seq = ++this.#lastSeq;
    // JetStream hands the message id back to consumers as this header.
    const headers = opts.msgId === undefined ? opts.headers : { ...opts.headers, "Nats-Msg-Id": opts.msgId };
    this.#messages.set(seq, {
      seq,
      subject,
      data: typeof data === "string" ? toBytes(data) : data.slice(),
      headers:
        headers === undefined || Object.keys(headers).length === 0
          ? undefined
          : Object.freeze({ ...headers }),
      at: now,
    });
    if (opts.msgId !== undefined) this.#msgIds.set(opts.msgId, { seq, at: now });
    this.trim();
    for (const d of this.durables.values()) d.dispatch();
    return { stream: this.name, seq, duplicate: false };
  }

  /** Applies maxAge, maxMsgs and the duplicate window, oldest first; expiry is checked lazily, no timers. */
  trim(): void {
    const now = Date.now();
    const { maxAgeMs, maxMsgs, duplicateWindowMs } = this.def;
    for (const [seq, m] of this.#messages) {
      const tooOld = maxAgeMs !== undefined && m.at + maxAgeMs <= now;
      const tooMany = maxMsgs !== undefined && this.#messages.size > maxMsgs;
      if (!tooOld && !tooMany) break;
      this.#messages.delete(seq);
    }
    for (const [id, seen] of this.#msgIds) {
      if (seen.at + duplicateWindowMs > now) break;
      this.#msgIds.delete(id);
    }
  }
}

/** JetStream streams and durable pull consumers of the in-process bus. */
export class MemoryStreams {
  readonly #streams = new Map<string, MemoryStream>();

  constructor(
    private readonly ctx: MemoryContext,
    private readonly drainTimeoutMs: number,
  ) {}

  ensure(input: StreamDefinition): void {
    this.ctx.assertOpen();
    const def = normalizeStream(input);
    for (const other of this.#streams.values()) {
      if (other.name === def.name) continue;
      const clash = def.subjects.find((s) => other.def.subjects.some((o) => patternsOverlap(s, o)));
      if (clash !== undefined) {
        throw new SondeError(
          "SONDE_CONFLICT",
          `subjects of stream ${def.name} overlap stream ${other.name}`,
          {
            meta: { stream: def.name, other: other.name, subject: clash },
          },
        );
      }
    }
    const existing = this.#streams.get(def.name);
    if (existing === undefined) {
      this.#streams.set(def.name, new MemoryStream(def));
    } else {
      existing.def = def;
      existing.trim();
    }
  }

  publish(subject: string, data: Payload, opts: StreamPublishOptions): StreamPublishAck {
    this.ctx.assertOpen();
    assertPublishSubject(subject);
    assertHeaders(opts.headers);
    const stream = [...this.#streams.values()].find((s) => s.captures(subject));
    if (stream === undefined) {
      throw new SondeError("SONDE_BUS_NO_RESPONDERS", `no stream captures subject ${subject}`, {
        meta: { subject },
      });
    }
    return stream.append(subject, data, opts);
  }

  consume(
    streamName: string,
    durable: string,
    handler: (msg: StreamMessage) => Promise<void> | void,
    opts: ConsumeOptions,
  ): Consumer {
    this.ctx.assertAccepting();
    const config = normalizeConsume(streamName, durable, opts);
    const stream = this.#streams.get(streamName);
    if (stream === undefined) {
      throw new SondeError("SONDE_NOT_FOUND", `stream ${streamName} does not exist`, {
        meta: { stream: streamName },
      });
    }
    const filter = config.filterSubject;
    if (filter !== undefined && !stream.def.subjects.some((s) => patternsOverlap(s, filter))) {
      throw new SondeError(
        "SONDE_CONFIG_INVALID",
        `filter ${filter} is outside the subjects of stream ${streamName}`,
        {
          meta: { stream: streamName, filterSubject: filter },
        },
      );
    }
    let d = stream.durables.get(durable);
    if (d === undefined) {
      d = new MemoryDurable(this.ctx, stream, config, this.drainTimeoutMs);
      if (config.deliverNew) d.skipTo(stream.lastSeq());
      stream.durables.set(durable, d);
    } else if (d.config.filterSubject !== filter) {
      // JetStream 2.9 cannot change a durable's filter.
      throw new SondeError("SONDE_CONFLICT", `durable ${durable} exists with a different filter subject`, {
        meta: { stream: streamName, durable },
      });
    } else {
      d.config = config;
    }
    return d.attach(handler);
  }

  close(): void {
    for (const stream of this.#streams.values()) {
      for (const d of stream.durables.values()) d.close();
    }
  }
}
