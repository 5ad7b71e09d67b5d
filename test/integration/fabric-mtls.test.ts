import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import pino from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type PeerCheck,
  peerIdentity,
  type TlsMaterial,
  verifyPeerTenant,
} from "../../src/platform/fabric/certs/index.js";
import { type TenantPki, tenantPki } from "../support/fabric-pki.js";

/**
 * mTLS between fabric components as the gRPC server and client set it up: TLS verifies the chain
 * against the tenant's CA (`ca`, `requestCert`, `rejectUnauthorized`), then the verify function checks
 * the SPIFFE id. Real sockets on loopback, bounded waits.
 */

interface LogLine {
  readonly msg: string;
  readonly reason?: string;
  readonly expectedTenant?: string;
  readonly peer?: string;
}

function capture(): { logger: pino.Logger; lines: LogLine[]; text: () => string } {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  const logger = pino(
    { level: "info" },
    {
      write: (line: string) => {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines, text: () => raw.join("") };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/**
 * What the last server saw: handshakes TLS itself refused (chain, expiry, missing certificate), and
 * connections that got as far as the verify function.
 */
let handshakeErrors: string[] = [];
let verified = 0;

/** A TLS server that, like the agent, checks the client after the handshake and hangs up on refusal. */
async function tlsServer(material: TlsMaterial, verifyPeer: PeerCheck): Promise<number> {
  handshakeErrors = [];
  verified = 0;
  const server = tls.createServer({ ...material, requestCert: true, rejectUnauthorized: true }, (socket) => {
    verified++;
    try {
      verifyPeer(socket.getPeerCertificate());
    } catch {
      socket.destroy();
      return;
    }
    const id = peerIdentity(socket.getPeerCertificate());
    socket.end(`hello ${id?.component ?? "?"} ${id?.id ?? "?"}`);
  });
  server.on("tlsClientError", (err: Error & { code?: string }) =>
    handshakeErrors.push(err.code ?? err.message),
  );
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

type Outcome = { ok: true; greeting: string } | { ok: false; error: string };

/** Connects like the poller: TLS checks the server's chain and name, then checkServer its SPIFFE id. */
function tlsClient(port: number, material: Partial<TlsMaterial>, checkServer?: PeerCheck): Promise<Outcome> {
  return new Promise((resolve) => {
    let data = "";
    let settled = false;
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const socket = tls.connect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ...material,
      checkServerIdentity: (host, cert) => {
        const err = tls.checkServerIdentity(host, cert);
        if (err !== undefined) return err;
        try {
          checkServer?.(cert);
          return undefined;
        } catch (e) {
          return e instanceof Error ? e : new Error(String(e));
        }
      },
    });
    const timer = setTimeout(() => done({ ok: false, error: "timeout" }), 5_000);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      data += chunk;
    });
    socket.on("end", () =>
      done(data === "" ? { ok: false, error: "closed without a greeting" } : { ok: true, greeting: data }),
    );
    socket.on("close", () =>
      done(data === "" ? { ok: false, error: "closed" } : { ok: true, greeting: data }),
    );
    socket.on("error", (err) => done({ ok: false, error: err.message }));
  });
}

describe("mTLS peer verification (node:tls on loopback)", () => {
  let acme: TenantPki;
  let globex: TenantPki;
  let agent: TlsMaterial;
  beforeAll(async () => {
    acme = await tenantPki("acme");
    globex = await tenantPki("globex");
    agent = await acme.leaf("agent", "agent-1");
  });

  it("accepts a poller of the same tenant, and the poller accepts the agent", async () => {
    const log = capture();
    const port = await tlsServer(agent, verifyPeerTenant("acme", ["poller", "core"], { logger: log.logger }));
    const poller = await acme.leaf("poller", "poller-1", { hosts: [] });
    const outcome = await tlsClient(port, poller, verifyPeerTenant("acme", ["agent"]));
    expect(outcome).toEqual({ ok: true, greeting: "hello poller poller-1" });
    expect(log.lines).toEqual([]);
  });

  it("refuses a peer whose certificate tenant B's CA signed (TLS chain check)", async () => {
    const port = await tlsServer(agent, verifyPeerTenant("acme", ["poller"]));
    const intruder = await globex.leaf("poller", "poller-1", { hosts: [], trustCa: acme.caPem.certPem });
    const outcome = await tlsClient(port, intruder);
    expect(outcome.ok).toBe(false);
    expect(handshakeErrors).toHaveLength(1);
    expect(verified).toBe(0);
  });

  it("refuses a certificate from tenant A's CA that names tenant B, logging why without key material", async () => {
    const log = capture();
    const port = await tlsServer(agent, verifyPeerTenant("acme", ["poller"], { logger: log.logger }));
    const forged = await acme.leaf("poller", "poller-9", { hosts: [], tenantInUri: "globex" });
    const outcome = await tlsClient(port, forged);
    expect(outcome.ok).toBe(false);
    expect(verified).toBe(1);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      msg: "mTLS peer refused",
      expectedTenant: "acme",
      peer: "globex/poller/poller-9",
      reason: "the certificate names tenant globex, this side serves tenant acme",
    });
    expect(log.text()).not.toContain("PRIVATE KEY");
    expect(log.text()).not.toContain(forged.key.split("\n")[1] ?? "-");
  });

  it("refuses a component the server does not allow (an agent calling an agent)", async () => {
    const log = capture();
    const port = await tlsServer(agent, verifyPeerTenant("acme", ["poller"], { logger: log.logger }));
    const otherAgent = await acme.leaf("agent", "agent-2", { hosts: [] });
    expect((await tlsClient(port, otherAgent)).ok).toBe(false);
    expect(log.lines[0]?.reason).toBe("component agent may not connect here (allowed: poller)");
  });

  it("refuses a client without a certificate", async () => {
    const port = await tlsServer(agent, verifyPeerTenant("acme"));
    const outcome = await tlsClient(port, { ca: acme.caPem.certPem });
    expect(outcome.ok).toBe(false);
    expect(handshakeErrors).toEqual(["ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"]);
    expect(verified).toBe(0);
  });

  it("refuses an expired client certificate", async () => {
    const port = await tlsServer(agent, verifyPeerTenant("acme"));
    const expired = await acme.leaf("poller", "old", {
      hosts: [],
      days: 1,
      validFrom: new Date(Date.now() - 3 * 86_400_000),
    });
    const outcome = await tlsClient(port, expired);
    expect(outcome.ok).toBe(false);
    expect(handshakeErrors).toHaveLength(1);
    expect(verified).toBe(0);
  });

  it("lets the client refuse a server of another tenant that the client's CA bundle also trusts", async () => {
    // A bundle with both tenants' CAs passes TLS; the SPIFFE and issuer checks still hold the line.
    const globexAgent = await globex.leaf("agent", "agent-1");
    const port = await tlsServer(
      { ...globexAgent, ca: `${globex.caPem.certPem}${acme.caPem.certPem}` },
      verifyPeerTenant("globex"),
    );
    const poller = await acme.leaf("poller", "poller-1", {
      hosts: [],
      trustCa: `${acme.caPem.certPem}${globex.caPem.certPem}`,
    });
    const outcome = await tlsClient(port, poller, verifyPeerTenant("acme", ["agent"]));
    expect(outcome).toMatchObject({ ok: false, error: expect.stringMatching(/names tenant globex/) });
  });
});

describe("verifyPeerTenant on its own", () => {
  it("refuses no certificate, a certificate without SPIFFE id, another tenant's issuer, and an expired one", async () => {
    const acme = await tenantPki("acme");
    const globex = await tenantPki("globex");
    const check = verifyPeerTenant("acme");
    expect(() => check({} as tls.PeerCertificate)).toThrow(/no client certificate/);
    // What getPeerCertificate() hands over: the DER in `raw` (other fields are not relied upon).
    const raw = (pem: string) => ({ raw: new X509Certificate(pem).raw }) as tls.PeerCertificate;
    expect(() => check(raw(acme.caPem.certPem))).toThrow(/no single Sonde SPIFFE id/);
    const fromGlobexCa = await globex.leaf("poller", "p", { hosts: [], tenantInUri: "acme" });
    expect(() => check(raw(fromGlobexCa.cert))).toThrow(/issued by "Sonde tenant globex CA"/);
    const ok = await acme.leaf("poller", "p", { hosts: [] });
    expect(() => check(raw(ok.cert))).not.toThrow();
    const later = verifyPeerTenant("acme", undefined, { now: () => new Date(Date.now() + 30 * 86_400_000) });
    expect(() => later(raw(ok.cert))).toThrow(/not valid now/);
  });
});

describe("mTLS over HTTP/2 (the gRPC transport) on loopback", () => {
  it("serves a same-tenant client and hangs up on another tenant's", async () => {
    const acme = await tenantPki("acme");
    const globex = await tenantPki("globex");
    const agent = await acme.leaf("agent", "agent-1");
    const verify = verifyPeerTenant("acme", ["poller"]);
    const server = http2.createSecureServer({ ...agent, requestCert: true, rejectUnauthorized: true });
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      try {
        verify(socket.getPeerCertificate());
      } catch {
        socket.destroy();
      }
    });
    server.on("stream", (stream) => {
      stream.respond({ ":status": 200 });
      stream.end("ok");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const port = (server.address() as AddressInfo).port;

    const get = (material: TlsMaterial) =>
      new Promise<string>((resolve) => {
        const session = http2.connect(`https://localhost:${port}`, { ...material, host: "127.0.0.1" });
        const timer = setTimeout(() => finish("timeout"), 5_000);
        const finish = (what: string) => {
          clearTimeout(timer);
          session.destroy();
          resolve(what);
        };
        session.on("error", (err) => finish(`error: ${err.message}`));
        session.on("close", () => finish("closed"));
        const req = session.request({ ":path": "/" });
        let body = "";
        req.setEncoding("utf8");
        req.on("data", (c: string) => {
          body += c;
        });
        req.on("end", () => finish(`body: ${body}`));
        req.on("error", (err) => finish(`error: ${err.message}`));
        req.end();
      });

    expect(await get(await acme.leaf("poller", "p1", { hosts: [] }))).toBe("body: ok");
    const other = await get(await acme.leaf("poller", "p2", { hosts: [], tenantInUri: "globex" }));
    expect(other).not.toBe("body: ok");
    const intruder = await get(await globex.leaf("poller", "p1", { hosts: [], trustCa: acme.caPem.certPem }));
    expect(intruder).not.toBe("body: ok");
  });
});
