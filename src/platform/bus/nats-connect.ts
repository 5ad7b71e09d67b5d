import { setTimeout as sleep } from "node:timers/promises";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { AuthorizationError, connect, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { SondeError } from "../../lib/errors.js";

const DEFAULT_PORT = 4222;

export interface NatsTarget {
  readonly servers: readonly string[];
  readonly user: string | undefined;
  readonly pass: string | undefined;
  readonly token: string | undefined;
  readonly tls: boolean;
  /** The URL(s) without credentials, for messages and logs. */
  readonly display: string;
}

export interface ConnectOptions {
  readonly name: string;
  readonly logger: Logger;
  readonly attempts?: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Reply inboxes (and, through them, KV watchers) live under this prefix instead of `_INBOX`. */
  readonly inboxPrefix?: string;
}

/**
 * Parses NATS_URL (one or more comma-separated URLs). nats.js takes credentials as options, not in
 * the URL, so they are lifted out here — which also keeps them out of every message about the URL.
 */
export function parseNatsUrl(raw: string): NatsTarget {
  const servers: string[] = [];
  const shown: string[] = [];
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  let tls = false;
  for (const part of raw
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    let u: URL;
    try {
      u = new URL(part);
    } catch {
      throw new SondeError("SONDE_CONFIG_INVALID", "NATS_URL is not a valid URL", {
        meta: { setting: "NATS_URL" },
      });
    }
    if (u.protocol !== "nats:" && u.protocol !== "tls:") {
      throw new SondeError(
        "SONDE_CONFIG_INVALID",
        `NATS_URL scheme ${u.protocol}// is not supported by the Node transport: use nats:// or tls://`,
        { meta: { setting: "NATS_URL" } },
      );
    }
    if (u.protocol === "tls:") tls = true;
    if (u.username !== "" && user === undefined && token === undefined) {
      if (u.password !== "") {
        user = decodeURIComponent(u.username);
        pass = decodeURIComponent(u.password);
      } else {
        token = decodeURIComponent(u.username);
      }
    }
    const hostPort = u.port === "" ? `${u.host}:${DEFAULT_PORT}` : u.host;
    servers.push(hostPort);
    shown.push(`${u.protocol}//${hostPort}`);
  }
  if (servers.length === 0) {
    throw new SondeError("SONDE_CONFIG_INVALID", "NATS_URL is empty", { meta: { setting: "NATS_URL" } });
  }
  return { servers, user, pass, token, tls, display: shown.join(",") };
}

/** Error text from the client, with anything shaped like URL credentials removed. */
export function reasonOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\/\/[^@\s/]+@/g, "//");
}

/**
 * Connects with bounded, growing retries (a bus starting alongside Sonde may need a moment), then
 * checks that JetStream is enabled. Once connected, the client reconnects on its own indefinitely.
 */
export async function connectNats(
  target: NatsTarget,
  opts: ConnectOptions,
): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
  const attempts = opts.attempts ?? 5;
  const initial = opts.initialDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 4_000;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const nc = await connect({
        servers: [...target.servers],
        name: opts.name,
        ...(target.user === undefined ? {} : { user: target.user, pass: target.pass }),
        ...(target.token === undefined ? {} : { token: target.token }),
        ...(target.tls ? { tls: {} } : {}),
        ...(opts.inboxPrefix === undefined ? {} : { inboxPrefix: opts.inboxPrefix }),
        timeout: 2_000,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
      });
      return { nc, jsm: await openJetStream(nc, target) };
    } catch (err) {
      if (err instanceof SondeError) throw err;
      lastError = err;
      // Wrong credentials will not get better by retrying.
      if (err instanceof AuthorizationError || attempt === attempts) break;
      const delay = Math.min(max, initial * 2 ** (attempt - 1));
      opts.logger.warn(
        { attempt, of: attempts, retryInMs: delay, url: target.display, reason: reasonOf(err) },
        "cannot reach NATS, retrying",
      );
      await sleep(delay);
    }
  }
  throw new SondeError(
    "SONDE_BUS_UNREACHABLE",
    `cannot reach NATS at ${target.display}: ${reasonOf(lastError)}`,
    {
      meta: { url: target.display },
      cause: lastError,
    },
  );
}

/** The manager's first request checks that the account has JetStream; without it the bus is unusable. */
async function openJetStream(nc: NatsConnection, target: NatsTarget): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc);
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw new SondeError(
      "SONDE_BUS_UNREACHABLE",
      `NATS at ${target.display} does not offer JetStream (start the server with -js): ${reasonOf(err)}`,
      { meta: { url: target.display }, cause: err },
    );
  }
}
