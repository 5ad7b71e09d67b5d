import { SondeError } from "../../lib/errors.js";
import type { MemoryContext } from "./memory-context.js";
import { Entry, toBytes } from "./message.js";
import { checkKvOptions } from "./options.js";
import { assertKvKey, assertKvKeyFilter, subjectMatches } from "./subjects.js";
import type { KvBucket, KvEntry, KvOptions, KvWatcher, KvWatchOptions, Payload } from "./types.js";

interface Stored {
  readonly entry: Entry;
  /** Epoch ms after which the entry is gone; NATS expires every message, markers included, by max_age. */
  readonly expiresAt: number;
}

interface Watcher {
  readonly filter: string;
  readonly handler: (entry: KvEntry) => void;
  readonly backlog: KvEntry[];
  active: boolean;
  scheduled: boolean;
}

interface BucketState {
  readonly name: string;
  ttlMs: number | undefined;
  history: number;
  revision: number;
  /** Revisions per key, oldest first. */
  readonly keys: Map<string, Stored[]>;
  readonly watchers: Set<Watcher>;
}

function mismatch(bucket: string, key: string, detail: string): SondeError {
  return new SondeError("SONDE_KV_REVISION_MISMATCH", `key ${key} in bucket ${bucket}: ${detail}`, {
    meta: { bucket, key },
  });
}

/** Key-value buckets of the in-process bus, with the semantics of NATS KV on a 2.9 server. */
export class MemoryKv {
  readonly #buckets = new Map<string, BucketState>();

  constructor(private readonly ctx: MemoryContext) {}

  open(name: string, opts: KvOptions = {}): KvBucket {
    this.ctx.assertOpen();
    checkKvOptions(name, opts);
    // Bound: every operation looks the bucket up and fails with SONDE_NOT_FOUND while it is missing.
    if (opts.bind === true) return this.#handle(name);
    let state = this.#buckets.get(name);
    if (state === undefined) {
      state = { name, ttlMs: undefined, history: 1, revision: 0, keys: new Map(), watchers: new Set() };
      this.#buckets.set(name, state);
    }
    if (opts.ttlMs !== undefined) state.ttlMs = opts.ttlMs;
    if (opts.history !== undefined) state.history = opts.history;
    return this.#handle(name);
  }

  close(): void {
    for (const state of this.#buckets.values()) {
      for (const w of state.watchers) w.active = false;
      state.watchers.clear();
    }
  }

  #state(name: string): BucketState {
    this.ctx.assertOpen();
    const state = this.#buckets.get(name);
    if (state === undefined) {
      throw new SondeError("SONDE_NOT_FOUND", `bucket ${name} does not exist`, { meta: { bucket: name } });
    }
    return state;
  }

  /** The latest unexpired revision of a key, deletion markers included. */
  #latest(state: BucketState, key: string): Entry | undefined {
    const revisions = state.keys.get(key);
    if (revisions === undefined) return undefined;
    const now = Date.now();
    while (revisions.length > 0 && (revisions[0]?.expiresAt ?? Infinity) <= now) revisions.shift();
    if (revisions.length === 0) {
      state.keys.delete(key);
      return undefined;
    }
    return revisions[revisions.length - 1]?.entry;
  }

  #write(state: BucketState, key: string, value: Uint8Array, operation: "PUT" | "DEL"): number {
    state.revision += 1;
    const entry = new Entry(key, value, state.revision, operation, new Date());
    const revisions = state.keys.get(key) ?? [];
    revisions.push({ entry, expiresAt: state.ttlMs === undefined ? Infinity : Date.now() + state.ttlMs });
    while (revisions.length > state.history) revisions.shift();
    state.keys.set(key, revisions);
    for (const w of state.watchers) {
      if (subjectMatches(w.filter, key)) this.#notify(w, [entry]);
    }
    return entry.revision;
  }

  #notify(w: Watcher, entries: readonly KvEntry[]): void {
    w.backlog.push(...entries);
    if (w.scheduled) return;
    w.scheduled = true;
    this.ctx.defer(() => {
      w.scheduled = false;
      while (w.active) {
        const entry = w.backlog.shift();
        if (entry === undefined) return;
        this.ctx.inflight.run(() => w.handler(entry), { key: entry.key, watch: w.filter });
      }
    });
  }

  #handle(name: string): KvBucket {
    return {
      name,
      get: async (key) => {
        assertKvKey(key);
        const entry = this.#latest(this.#state(name), key);
        return entry === undefined || entry.operation === "DEL" ? null : entry;
      },
      put: async (key, value: Payload) => {
        assertKvKey(key);
        return this.#write(this.#state(name), key, toBytes(value).slice(), "PUT");
      },
      create: async (key, value: Payload) => {
        assertKvKey(key);
        const state = this.#state(name);
        const latest = this.#latest(state, key);
        if (latest !== undefined && latest.operation === "PUT") throw mismatch(name, key, "already exists");
        return this.#write(state, key, toBytes(value).slice(), "PUT");
      },
      update: async (key, value: Payload, expectedRevision) => {
        assertKvKey(key);
        const state = this.#state(name);
        const current = this.#latest(state, key)?.revision ?? 0;
        if (current !== expectedRevision || expectedRevision <= 0) {
          throw mismatch(name, key, `expected revision ${expectedRevision}, found ${current}`);
        }
        return this.#write(state, key, toBytes(value).slice(), "PUT");
      },
      delete: async (key) => {
        assertKvKey(key);
        this.#write(this.#state(name), key, new Uint8Array(0), "DEL");
      },
      keys: async (filter) => {
        if (filter !== undefined) assertKvKeyFilter(filter);
        const state = this.#state(name);
        const live: Entry[] = [];
        for (const key of [...state.keys.keys()]) {
          const entry = this.#latest(state, key);
          if (entry?.operation === "PUT" && (filter === undefined || subjectMatches(filter, key)))
            live.push(entry);
        }
        return live.sort((a, b) => a.revision - b.revision).map((e) => e.key);
      },
      watch: async (handler, opts: KvWatchOptions = {}): Promise<KvWatcher> => {
        this.ctx.assertAccepting();
        const filter = opts.key ?? ">";
        assertKvKeyFilter(filter);
        const state = this.#state(name);
        const w: Watcher = { filter, handler, backlog: [], active: true, scheduled: false };
        if (opts.includeHistory === true) {
          const current: Entry[] = [];
          for (const key of [...state.keys.keys()]) {
            const entry = this.#latest(state, key);
            if (entry !== undefined && subjectMatches(filter, key)) current.push(entry);
          }
          current.sort((a, b) => a.revision - b.revision);
          if (current.length > 0) this.#notify(w, current);
        }
        state.watchers.add(w);
        return {
          stop: async () => {
            w.active = false;
            state.watchers.delete(w);
          },
        };
      },
      destroy: async () => {
        const state = this.#state(name);
        for (const w of state.watchers) w.active = false;
        this.#buckets.delete(name);
      },
    };
  }
}
