import type { PeerCertificate } from "node:tls";
import { ConnectError } from "@connectrpc/connect";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentClient } from "../../src/grpc/agent-client.js";
import { isSondeError } from "../../src/lib/errors.js";
import { type RunningAgent, startAgent } from "../../src/roles/agent.js";
import { makeTestPki, type TestPki } from "../support/test-certs.js";

const logger = pino({ level: "silent" });

/** The tenant a certificate names in its SPIFFE URI SAN (`spiffe://sonde/tenant/<t>`). */
function tenantOf(peer: PeerCertificate): string | undefined {
  return /URI:spiffe:\/\/sonde\/tenant\/([a-z0-9_-]+)/.exec(peer.subjectaltname ?? "")?.[1];
}

async function failure(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

describe("agent gRPC over mutual TLS", () => {
  let pki: TestPki;
  let agent: RunningAgent;
  const seen: string[] = [];

  beforeAll(async () => {
    pki = makeTestPki(["acme", "globex"]);
    agent = await startAgent({
      listen: "127.0.0.1:0",
      agentId: "agent-acme",
      logger,
      tls: {
        ca: pki.ca,
        cert: pki.server.cert,
        key: pki.server.key,
        // What the certificates worker will plug in: only the agent's own tenant may call it.
        verifyPeer: (peer) => {
          const tenant = tenantOf(peer);
          seen.push(tenant ?? "?");
          if (tenant !== "acme") throw new Error(`tenant ${tenant ?? "none"} may not call this agent`);
        },
      },
    });
  });
  afterAll(() => agent.stop());

  const query = { serviceType: "port", details: "127.0.0.1:1" };

  it("serves a client whose certificate passes verifyPeer", async () => {
    const client = createAgentClient({ address: agent.address, tls: { ca: pki.ca, ...pki.clients.acme! } });
    try {
      const answer = await client.getStatus(query);
      expect(answer.available).toBe(false);
      expect(answer.raw.agentId).toBe("agent-acme");
      expect(seen).toContain("acme");
    } finally {
      client.close();
    }
  });

  it("closes the connection of another tenant's client (cross-tenant)", async () => {
    const client = createAgentClient({
      address: agent.address,
      tls: { ca: pki.ca, ...pki.clients.globex! },
      timeoutMs: 5_000,
    });
    try {
      const err = await failure(client.getStatus(query));
      expect(err.code).not.toBe(0);
      expect(seen).toContain("globex");
    } finally {
      client.close();
    }
  });

  it("refuses a client certificate from another CA, and a client without one", async () => {
    const stranger = createAgentClient({
      address: agent.address,
      tls: { ca: pki.ca, ...pki.stranger },
      timeoutMs: 5_000,
    });
    const plain = createAgentClient({ address: agent.address, insecure: true, timeoutMs: 5_000 });
    try {
      await failure(stranger.getStatus(query));
      await failure(plain.getStatus(query));
    } finally {
      stranger.close();
      plain.close();
    }
  });

  it("lets the client check the server's identity with checkServer", async () => {
    const names: string[] = [];
    const trusting = createAgentClient({
      address: agent.address,
      tls: {
        ca: pki.ca,
        ...pki.clients.acme!,
        checkServer: (peer) => void names.push(String(peer.subject.CN)),
      },
    });
    const refusing = createAgentClient({
      address: agent.address,
      timeoutMs: 5_000,
      tls: {
        ca: pki.ca,
        ...pki.clients.acme!,
        checkServer: () => {
          throw new Error("not the agent we were told about");
        },
      },
    });
    try {
      expect((await trusting.getStatus(query)).raw.agentId).toBe("agent-acme");
      expect(names).toContain("server");
      const err = await failure(refusing.getStatus(query));
      expect(err.message).toContain("not the agent we were told about");
    } finally {
      trusting.close();
      refusing.close();
    }
  });
});

describe("plaintext needs saying", () => {
  it("the agent refuses to start without TLS material or insecure", async () => {
    let caught: unknown;
    try {
      await startAgent({ listen: "127.0.0.1:0", agentId: "a", logger });
    } catch (err) {
      caught = err;
    }
    expect(isSondeError(caught, "SONDE_CONFIG_INVALID")).toBe(true);
    expect((caught as Error).message).toContain("--insecure");
  });

  it("the client refuses to be created without TLS material or insecure", () => {
    expect(() => createAgentClient({ address: "127.0.0.1:1" })).toThrow(/TLS material/);
  });
});
