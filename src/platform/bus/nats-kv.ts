import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { type KV, Kvm, KvWatchInclude, type KvEntry as NatsKvEntry } from "@nats-io/kv";
import { nanos } from "@nats-io/transport-node";
import { SondeError } from "../../lib/errors.js";
import type { InFlight } from "./inflight.js";
import { Entry, toBytes } from "./message.js";
import { fromNats } from "./nats-errors.js";
import { checkKvOptions } from "./options.js";
import { assertKvKey, assertKvKeyFilter } from "./subjects.js";
import type { KvBucket, KvEntry, KvOptions, KvWatcher, KvWatchOptions, Payload } from "./types.js";

export interface NatsKvDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly inflight: InFlight;
  assertOpen(): void;
  assertAccepting(): void;
  /** Registers a watcher so close() can stop it; returns the unregister function. */
  track(watcher: KvWatcher): () => void;
}

function toEntry(e: NatsKvEntry): Entry {
  return new Entry(e.key, e.value, e.revision, e.operation === "PUT" ? "PUT" : "DEL", e.created);
}

/**
 * Kvm.create() opens an existing bucket as it is, so a changed TTL or history would be silently ignored;
 * the backing stream is brought in line instead.
 */
async function reconcile(deps: NatsKvDeps, kv: KV, opts: KvOptions): Promise<void> {
  if (opts.ttlMs === undefined && opts.history === undefined) return;
  const { config } = (await kv.status()).streamInfo;
  const maxAge = opts.ttlMs === undefined ? config.max_age : nanos(opts.ttlMs);
  const history = opts.history ?? config.max_msgs_per_subject;
  if (maxAge === config.max_age && history === config.max_msgs_per_subject) return;
  await deps.jsm.streams.update(config.name, {
    max_age: maxAge,
    max_msgs_per_subject: history,
    // The server refuses a duplicate window longer than max_age.
    duplicate_window: maxAge > 0 ? Math.min(config.duplicate_window, maxAge) : config.duplicate_window,
  });
}

export async function openNatsKv(deps: NatsKvDeps, bucket: string, opts: KvOptions = {}): Promise<KvBucket> {
  deps.assertOpen();
  checkKvOptions(bucket, opts);
  try {
    if (opts.bind === true) {
      // Buckets Sonde creates on 2.9+ allow direct gets: reads carry the key in the subject.
      const kv = await new Kvm(deps.js).open(bucket, { allow_direct: true });
      return new NatsKvBucket(deps, bucket, kv);
    }
    const kv = await new Kvm(deps.js).create(bucket, {
      ...(opts.ttlMs === undefined ? {} : { ttl: opts.ttlMs }),
      ...(opts.history === undefined ? {} : { history: opts.history }),
    });
    await reconcile(deps, kv, opts);
    return new NatsKvBucket(deps, bucket, kv);
  } catch (err) {
    throw fromNats(err, `opening bucket ${bucket}`, { bucket });
  }
}

class NatsKvBucket implements KvBucket {
  constructor(
    private readonly deps: NatsKvDeps,
    readonly name: string,
    private readonly kv: KV,
  ) {}

  async #call<T>(what: string, key: string | undefined, fn: () => Promise<T>): Promise<T> {
    this.deps.assertOpen();
    try {
      return await fn();
    } catch (err) {
      if (key === undefined) throw fromNats(err, `${what} bucket ${this.name}`, { bucket: this.name });
      throw fromNats(err, `${what} ${key} in bucket ${this.name}`, { bucket: this.name, key });
    }
  }

  async get(key: string): Promise<KvEntry | null> {
    assertKvKey(key);
    return this.#call("get", key, async () => {
      const e = await this.kv.get(key);
      return e === null || e.operation !== "PUT" ? null : toEntry(e);
    });
  }

  async put(key: string, value: Payload): Promise<number> {
    assertKvKey(key);
    return this.#call("put", key, () => this.kv.put(key, toBytes(value)));
  }

  async create(key: string, value: Payload): Promise<number> {
    assertKvKey(key);
    return this.#call("create", key, () => this.kv.create(key, toBytes(value)));
  }

  async update(key: string, value: Payload, expectedRevision: number): Promise<number> {
    assertKvKey(key);
    if (!(Number.isInteger(expectedRevision) && expectedRevision > 0)) {
      // nats.js rejects this before asking the server; no entry is ever at revision 0.
      throw new SondeError(
        "SONDE_KV_REVISION_MISMATCH",
        `key ${key} in bucket ${this.name}: no revision ${expectedRevision}`,
        {
          meta: { bucket: this.name, key },
        },
      );
    }
    return this.#call("update", key, () => this.kv.update(key, toBytes(value), expectedRevision));
  }

  async delete(key: string): Promise<void> {
    assertKvKey(key);
    return this.#call("delete", key, () => this.kv.delete(key));
  }

  async keys(filter?: string): Promise<string[]> {
    if (filter !== undefined) assertKvKeyFilter(filter);
    return this.#call("list keys", filter ?? ">", async () => {
      const out: string[] = [];
      for await (const k of await this.kv.keys(filter ?? ">")) out.push(k);
      return out;
    });
  }

  async watch(handler: (entry: KvEntry) => void, opts: KvWatchOptions = {}): Promise<KvWatcher> {
    this.deps.assertAccepting();
    const filter = opts.key ?? ">";
    assertKvKeyFilter(filter);
    const iter = await this.#call("watch", filter, () =>
      this.kv.watch({
        key: filter,
        include: opts.includeHistory === true ? KvWatchInclude.LastValue : KvWatchInclude.UpdatesOnly,
      }),
    );
    const loop = (async () => {
      for await (const e of iter) {
        const entry = toEntry(e);
        this.deps.inflight.run(() => handler(entry), { bucket: this.name, key: entry.key });
      }
    })();
    let untrack = () => {};
    const watcher: KvWatcher = {
      stop: async () => {
        untrack();
        iter.stop();
        await loop.catch(() => undefined);
      },
    };
    untrack = this.deps.track(watcher);
    return watcher;
  }

  async destroy(): Promise<void> {
    return this.#call("destroy", undefined, async () => {
      await this.kv.destroy();
    });
  }
}
