import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAgentClient } from "../../src/grpc/agent-client.js";
import { makeTestPki, type TestPki } from "../support/test-certs.js";
import { type SondeProcess, spawnSonde } from "../support/sonde-process.js";

// Real `sonde agent` processes; one start can take seconds on two busy cores.
vi.setConfig({ testTimeout: 120_000 });

describe("sonde agent --listen", () => {
  const running: SondeProcess[] = [];
  let pki: TestPki;
  let dir: string;
  let target: Server;
  let targetPort: number;
  const run = (args: string[]) => {
    const p = spawnSonde(args);
    running.push(p);
    return p;
  };
  const listening = async (p: SondeProcess) =>
    String((await p.waitForLog((l) => l.msg === "agent gRPC service listening", 60_000)).address);

  beforeAll(async () => {
    pki = makeTestPki(["poller"]);
    dir = mkdtempSync(join(tmpdir(), "sonde-agent-tls-"));
    writeFileSync(join(dir, "ca.pem"), pki.ca);
    writeFileSync(join(dir, "cert.pem"), pki.server.cert);
    writeFileSync(join(dir, "key.pem"), pki.server.key);
    target = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    targetPort = (target.address() as { port: number }).port;
  });
  afterEach(() => {
    for (const p of running.splice(0)) p.kill();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => target.close(() => resolve()));
  });

  it("refuses to serve plaintext unless --insecure is given (exit 78)", async () => {
    const p = run(["agent", "--listen", "127.0.0.1:0"]);
    expect(await p.exited(60_000)).toBe(78);
    expect(p.stderr()).toContain("SONDE_CONFIG_INVALID");
    expect(p.stderr()).toContain("--insecure");
  });

  it("refuses --insecure without --listen (usage, exit 2)", async () => {
    const p = run(["agent", "--insecure"]);
    expect(await p.exited(60_000)).toBe(2);
    expect(p.stderr()).toContain("only apply with --listen");
  });

  it("serves plaintext with --insecure, warns about it, and stops cleanly on SIGTERM", async () => {
    const p = run(["agent", "--listen", "127.0.0.1:0", "--insecure", "--agent-id", "edge-1"]);
    const address = await listening(p);
    expect(p.logs.some((l) => l.level === 40 && String(l.msg).includes("plaintext"))).toBe(true);
    const client = createAgentClient({ address, insecure: true });
    try {
      const answer = await client.getStatus({ serviceType: "port", details: `127.0.0.1:${targetPort}` });
      expect(answer.available).toBe(true);
      expect(answer.raw.agentId).toBe("edge-1");
    } finally {
      client.close();
    }
    p.child.kill("SIGTERM");
    expect(await p.exited(30_000)).toBe(0);
  });

  it("serves mutual TLS from --tls-ca/--tls-cert/--tls-key", async () => {
    const p = run([
      "agent",
      "--listen",
      "127.0.0.1:0",
      "--tls-ca",
      join(dir, "ca.pem"),
      "--tls-cert",
      join(dir, "cert.pem"),
      "--tls-key",
      join(dir, "key.pem"),
    ]);
    const address = await listening(p);
    const client = createAgentClient({ address, tls: { ca: pki.ca, ...pki.clients.poller! } });
    const anonymous = createAgentClient({ address, insecure: true, timeoutMs: 5_000 });
    try {
      expect(
        (await client.getStatus({ serviceType: "port", details: `127.0.0.1:${targetPort}` })).available,
      ).toBe(true);
      await expect(
        anonymous.getStatus({ serviceType: "port", details: `127.0.0.1:${targetPort}` }),
      ).rejects.toThrow();
    } finally {
      client.close();
      anonymous.close();
    }
  });
});
