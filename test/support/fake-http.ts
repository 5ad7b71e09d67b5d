/**
 * What the fake integration servers (fake-armis.ts, fake-netbox.ts) share: a real node:http server on
 * 127.0.0.1 and an ephemeral port, and a plan of injected faults (429 with Retry-After, 5xx, slow
 * answers) that an endpoint consumes one request at a time, or on every request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
  | { readonly status: number; readonly retryAfter?: string }
  /** Answers normally, but only after this long (longer than a client's timeout: a timeout). */
  | { readonly delayMs: number };

/** Faults for one endpoint: queued ones are used once each, in order; `always` on every request. */
export class FaultPlan {
  private readonly queued: Fault[] = [];
  private always: Fault | undefined;

  /** The next requests meet these faults, one each. */
  inject(...faults: Fault[]): void {
    this.queued.push(...faults);
  }

  /** Every request meets this fault until `clear()`. */
  failAlways(fault: Fault): void {
    this.always = fault;
  }

  clear(): void {
    this.queued.length = 0;
    this.always = undefined;
  }

  next(): Fault | undefined {
    return this.queued.shift() ?? this.always;
  }
}

export interface FakeServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export function json(status: number, body: unknown): Reply {
  return { status, body };
}

/** Applies a fault: an error reply, or a delay before the normal one. Undefined: answer normally. */
export async function applyFault(fault: Fault | undefined, sleep: (ms: number) => Promise<void>) {
  if (fault === undefined) return undefined;
  if ("delayMs" in fault) {
    await sleep(fault.delayMs);
    return undefined;
  }
  const headers: Record<string, string> =
    fault.retryAfter !== undefined ? { "retry-after": fault.retryAfter } : {};
  return { status: fault.status, body: { detail: `injected HTTP ${fault.status}` }, headers } satisfies Reply;
}

/** Starts a server; `close()` drops open connections (a slow answer in progress included). */
export async function startFakeServer(
  handler: (
    req: IncomingMessage,
    body: string,
    url: URL,
    sleep: (ms: number) => Promise<void>,
  ) => Promise<Reply>,
): Promise<FakeServer> {
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      handler(req, Buffer.concat(chunks).toString("utf8"), url, sleep)
        .then((reply) => {
          if (res.destroyed) return;
          res.writeHead(reply.status, { "content-type": "application/json", ...(reply.headers ?? {}) });
          res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
        })
        .catch((err: unknown) => {
          if (res.destroyed) return;
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ detail: String(err) }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
