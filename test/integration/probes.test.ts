import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createServer as createHttp2Server, createSecureServer } from "node:http2";
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { pingGate } from "../support/services.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { healthRoutes } from "../../src/grpc/health-service.js";
import { grpcHealthProbe } from "../../src/grpc/health-probe.js";
import {
  type Check,
  CheckAbort,
  type CheckContext,
  contextFor,
  createCheckRunner,
  createIcmpProbe,
  dnsProbe,
  httpProbe,
  parseCheck,
  type ProbeResult,
  tcpProbe,
} from "../../src/platform/probes/index.js";
import { startDnsServer, type TestDnsServer } from "../support/dns-server.js";
import { makeTestPki, type TestPki } from "../support/test-certs.js";

const signal = () => contextFor(AbortSignal.timeout(5_000));
const portOf = (server: { address(): AddressInfo | string | null }) => (server.address() as AddressInfo).port;
const close = (server: { close(cb: () => void): unknown }) =>
  new Promise<void>((resolve) => server.close(() => resolve()));
const listen = async <S extends { listen(port: number, host: string, cb: () => void): unknown }>(
  server: S,
) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
};
const http = (details: Record<string, unknown>) =>
  parseCheck({ serviceType: "http", details: JSON.stringify(details) });
const run = (check: Check, probe: (c: never, s: CheckContext) => Promise<ProbeResult>) =>
  (probe as (c: Check, s: CheckContext) => Promise<ProbeResult>)(check, signal());

let pki: TestPki;
beforeAll(() => {
  pki = makeTestPki(["poller"]);
});

describe("TCP probe", () => {
  let server: Server;
  beforeAll(async () => {
    server = await listen(createTcpServer((socket) => socket.destroy()));
  });
  afterAll(() => close(server));

  it("reports an open port as available with its response time in ns", async () => {
    const result = await tcpProbe({ kind: "port", host: "127.0.0.1", port: portOf(server) }, signal());
    expect(result.available).toBe(true);
    expect(result.responseTimeNs).toBeGreaterThan(0);
    expect(result.message).toEqual({
      host: "127.0.0.1",
      port: portOf(server),
      response_time: result.responseTimeNs,
      available: true,
    });
  });

  it("reports a closed port as unavailable with the reason", async () => {
    const closed = await listen(createTcpServer());
    const port = portOf(closed);
    await close(closed);
    const result = await tcpProbe({ kind: "port", host: "127.0.0.1", port }, signal());
    expect(result.available).toBe(false);
    expect(result.error).toContain("ECONNREFUSED");
  });

  it("gives up a connect in flight when the check is aborted (its timeout)", async () => {
    const context = new CheckAbort();
    const pending = tcpProbe({ kind: "port", host: "127.0.0.1", port: portOf(server) }, context);
    // The handshake needs the event loop; the abort lands first.
    context.abort("timed out after 1 ms");
    const result = await pending;
    expect(result).toMatchObject({ available: false, error: "timed out after 1 ms" });
    expect(context.signal.aborted).toBe(true);
  });

  it("reports an already aborted check as unavailable without connecting", async () => {
    const result = await tcpProbe(
      { kind: "port", host: "127.0.0.1", port: portOf(server) },
      contextFor(AbortSignal.abort()),
    );
    expect(result.available).toBe(false);
  });
});

describe("HTTP probe", () => {
  let server: HttpServer;
  let silent: Server;
  const held: Socket[] = [];
  let base: string;
  beforeAll(async () => {
    server = await listen(
      createHttpServer((req, res) => {
        if (req.url === "/moved") {
          res.writeHead(302, { location: "/ok" }).end();
        } else if (req.url === "/missing") {
          res.writeHead(404).end("nothing here");
        } else {
          res.writeHead(200, { "content-type": "text/plain" }).end("status: all systems go (v42)");
        }
      }),
    );
    // Accepts connections and never answers: the timeout path.
    silent = await listen(createTcpServer((socket) => held.push(socket)));
    base = `http://127.0.0.1:${portOf(server)}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await close(server);
    for (const socket of held) socket.destroy();
    await close(silent);
  });

  it("passes on 200 and a matching body (substring and regex)", async () => {
    const result = await run(
      http({ url: `${base}/`, body_contains: "all systems go", body_regex: "v\\d+" }),
      httpProbe,
    );
    expect(result.available).toBe(true);
    expect(result.message).toMatchObject({ url: `${base}/`, status: 200, available: true });
  });

  it("fails when the body does not match", async () => {
    const result = await run(http({ url: `${base}/`, body_contains: "degraded" }), httpProbe);
    expect(result.available).toBe(false);
    expect(result.error).toBe("body does not contain the expected text");
  });

  it("fails on 404 unless 404 is the expected status", async () => {
    const plain = await run(parseCheck({ serviceType: "http", details: `${base}/missing` }), httpProbe);
    expect(plain.available).toBe(false);
    expect(plain.error).toBe("status 404, expected a status below 400");
    const expected = await run(http({ url: `${base}/missing`, expect_status: 404 }), httpProbe);
    expect(expected.available).toBe(true);
  });

  it("does not follow redirects unless asked", async () => {
    const stay = await run(http({ url: `${base}/moved`, expect_status: 200 }), httpProbe);
    expect(stay.available).toBe(false);
    expect(stay.message).toMatchObject({ status: 302 });
    const follow = await run(
      http({ url: `${base}/moved`, expect_status: 200, follow_redirects: true }),
      httpProbe,
    );
    expect(follow.available).toBe(true);
    expect(follow.message).toMatchObject({ status: 200, final_url: `${base}/ok` });
  });

  it("times out on a server that never answers", async () => {
    const check = http({ url: `http://127.0.0.1:${portOf(silent)}/` });
    const runner = createCheckRunner({
      probes: { http: httpProbe },
      concurrency: 2,
      defaultTimeoutMs: 5_000,
    });
    const result = await runner.runOne({ check, timeoutMs: 200 });
    expect(result.available).toBe(false);
    expect(result.error).toBe("timed out after 200 ms");
    expect(result.responseTimeNs).toBeGreaterThanOrEqual(190_000_000);
  });
});

describe("HTTPS probe", () => {
  let server: HttpsServer;
  let url: string;
  beforeAll(async () => {
    server = await listen(
      createHttpsServer({ cert: pki.server.cert, key: pki.server.key }, (_req, res) => res.end("secure")),
    );
    url = `https://127.0.0.1:${portOf(server)}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await close(server);
  });

  it("trusts the given CA and reports the certificate's days to expiry", async () => {
    const result = await run(http({ url, ca: pki.ca, body_contains: "secure" }), httpProbe);
    expect(result.available).toBe(true);
    // The test certificate is valid for two days.
    expect(result.message.cert_days_left).toBeGreaterThanOrEqual(1);
    expect(result.message.cert_days_left).toBeLessThanOrEqual(2);
  });

  it("refuses an untrusted certificate, unless told to skip verification", async () => {
    const refused = await run(http({ url }), httpProbe);
    expect(refused.available).toBe(false);
    expect(refused.error).toMatch(/certificate/i);
    const skipped = await run(http({ url, insecure_skip_verify: true }), httpProbe);
    expect(skipped.available).toBe(true);
    expect(skipped.message.cert_days_left).toBeGreaterThanOrEqual(1);
  });
});

describe("DNS probe", () => {
  let dns: TestDnsServer;
  beforeAll(async () => {
    dns = await startDnsServer({ "db.example.test": ["10.0.0.5", "10.0.0.6"] });
  });
  afterAll(() => dns.close());
  const check = (details: Record<string, unknown>) =>
    parseCheck({ serviceType: "dns", details: JSON.stringify({ server: dns.address, ...details }) });

  it("resolves A records through the given server", async () => {
    const result = await run(check({ name: "db.example.test" }), dnsProbe);
    expect(result.available).toBe(true);
    expect(result.message).toMatchObject({
      name: "db.example.test",
      type: "A",
      answers: ["10.0.0.5", "10.0.0.6"],
    });
    expect(dns.queries).toContain("db.example.test/1");
  });

  it("checks the expected answer", async () => {
    expect((await run(check({ name: "db.example.test", expect: "10.0.0.6" }), dnsProbe)).available).toBe(
      true,
    );
    const wrong = await run(check({ name: "db.example.test", expect: "10.9.9.9" }), dnsProbe);
    expect(wrong.available).toBe(false);
    expect(wrong.error).toBe('no answer equals "10.9.9.9"');
  });

  it("reports a name that does not exist as unavailable", async () => {
    const result = await run(check({ name: "nope.example.test" }), dnsProbe);
    expect(result.available).toBe(false);
    expect(result.error).toContain("ENOTFOUND");
  });
});

describe("ICMP probe", () => {
  it("says plainly that ICMP is unavailable when no ping binary is found", async () => {
    const probe = createIcmpProbe({ candidates: ["/nonexistent/fping", "/nonexistent/ping"] });
    const result = await probe({ kind: "icmp", host: "127.0.0.1", count: 1 }, signal());
    expect(result.available).toBe(false);
    expect(result.error).toBe("ICMP unavailable: none of /nonexistent/fping, /nonexistent/ping found");
    expect(result.message).toMatchObject({ host: "127.0.0.1", packet_loss: 100, available: false });
  });

  it.runIf(pingGate().run)(
    "pings 127.0.0.1 with the system's fping or ping (.ci/run installs them)",
    async () => {
      const result = await createIcmpProbe()({ kind: "icmp", host: "127.0.0.1", count: 1 }, signal());
      expect(result.error).toBeUndefined();
      expect(result.message).toMatchObject({ host: "127.0.0.1", packet_loss: 0, available: true });
      expect(result.available).toBe(true);
      expect(result.responseTimeNs).toBeGreaterThan(0);
    },
  );

  it.runIf(pingGate().run)("falls back to ping when fping is missing", async () => {
    const result = await createIcmpProbe({ candidates: ["/nonexistent/fping", "ping"] })(
      { kind: "icmp", host: "127.0.0.1", count: 1 },
      signal(),
    );
    expect(result).toMatchObject({ available: true, message: { host: "127.0.0.1", packet_loss: 0 } });
  });
});

describe("gRPC health probe", () => {
  let plain: ReturnType<typeof createHttp2Server>;
  let secure: ReturnType<typeof createSecureServer>;
  let draining = false;
  beforeAll(async () => {
    const handler = connectNodeAdapter({
      routes: healthRoutes(["shop.Cart"], () => draining),
      grpcWeb: false,
      connect: false,
    });
    plain = await listen(createHttp2Server(handler));
    secure = await listen(createSecureServer({ cert: pki.server.cert, key: pki.server.key }, handler));
  });
  afterAll(async () => {
    await close(plain);
    await close(secure);
  });
  const check = (details: Record<string, unknown>) =>
    parseCheck({ serviceType: "grpc", details: JSON.stringify(details) });

  it("is available when the server answers SERVING (plaintext)", async () => {
    const result = await run(
      check({ address: `127.0.0.1:${portOf(plain)}`, service: "shop.Cart" }),
      grpcHealthProbe,
    );
    expect(result.available).toBe(true);
    expect(result.message).toMatchObject({ status: "SERVING", service: "shop.Cart" });
  });

  it("is available over TLS with the server's CA", async () => {
    const result = await run(
      check({ address: `127.0.0.1:${portOf(secure)}`, tls: true, ca: pki.ca }),
      grpcHealthProbe,
    );
    expect(result.available).toBe(true);
  });

  it("is unavailable for an unknown service and while the server drains", async () => {
    const unknown = await run(
      check({ address: `127.0.0.1:${portOf(plain)}`, service: "shop.Nope" }),
      grpcHealthProbe,
    );
    expect(unknown.available).toBe(false);
    expect(unknown.error).toContain("unknown service");
    draining = true;
    try {
      const result = await run(check({ address: `127.0.0.1:${portOf(plain)}` }), grpcHealthProbe);
      expect(result.available).toBe(false);
      expect(result.message).toMatchObject({ status: "NOT_SERVING" });
    } finally {
      draining = false;
    }
  });
});

describe("check runner", () => {
  it("never has more checks in flight than its concurrency and returns results in order", async () => {
    let inFlight = 0;
    let peak = 0;
    const runner = createCheckRunner({
      probes: {
        port: async (c) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await new Promise((resolve) => setTimeout(resolve, 5));
          inFlight--;
          return { available: c.port % 2 === 0, responseTimeNs: 1, message: { port: c.port } };
        },
      },
      concurrency: 4,
      defaultTimeoutMs: 1_000,
    });
    const checks = Array.from({ length: 40 }, (_, i) => ({
      check: { kind: "port" as const, host: "h", port: i + 1 },
    }));
    // Two concurrent batches share the bound.
    const [a, b] = await Promise.all([runner.run(checks), runner.run(checks)]);
    expect(peak).toBe(4);
    expect(a?.map((r) => r.message.port)).toEqual(checks.map((c) => c.check.port));
    expect(b?.map((r) => r.available)).toEqual(checks.map((c) => c.check.port % 2 === 0));
  });

  it("turns a throwing probe and a missing probe into results", async () => {
    const runner = createCheckRunner({
      probes: {
        port: () => {
          throw new Error("boom");
        },
      },
      concurrency: 1,
      defaultTimeoutMs: 1_000,
    });
    const [thrown, missing] = await runner.run([
      { check: { kind: "port", host: "h", port: 1 } },
      { check: { kind: "icmp", host: "h", count: 1 } },
    ]);
    expect(thrown).toMatchObject({ available: false, error: "probe failed: boom" });
    expect(missing).toMatchObject({ available: false, error: "no probe for icmp checks in this agent" });
  });

  it("refuses a concurrency that is not a positive integer", () => {
    expect(() => createCheckRunner({ probes: {}, concurrency: 0, defaultTimeoutMs: 1 })).toThrow(
      /positive integer/,
    );
  });
});
