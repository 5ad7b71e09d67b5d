import { X509Certificate as NodeX509 } from "node:crypto";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CA_FILES,
  caCommonName,
  issueCa,
  issueLeaf,
  loadCa,
  loadCaDir,
  loadTlsMaterial,
  parseSpiffeId,
  spiffeId,
  writeOutputFiles,
} from "../../src/platform/fabric/certs/index.js";
import * as x509 from "../../src/platform/fabric/certs/x509.js";
import { leafDir, tempDir, tenantPki } from "../support/fabric-pki.js";

describe("SPIFFE ids", () => {
  it("formats and parses the fabric's ids exactly", () => {
    const uri = spiffeId({ tenant: "acme", component: "agent", id: "agent-1" });
    expect(uri).toBe("spiffe://sonde/tenant/acme/agent/agent-1");
    expect(parseSpiffeId(uri)).toEqual({ tenant: "acme", component: "agent", id: "agent-1" });
  });

  it.each([
    "spiffe://sonde/tenant/acme/agent/agent-1/",
    "spiffe://sonde/tenant/acme/agent/agent-1/extra",
    "spiffe://other/tenant/acme/agent/agent-1",
    "spiffe://sonde/tenant/Acme/agent/agent-1",
    "spiffe://sonde/tenant/acme/web/agent-1",
    "spiffe://sonde/tenant/acme/agent/agent.1",
    "spiffe://sonde/tenant/acme/agent/agent-1?x=1",
    "spiffe://sonde/tenant/acme/agent/",
    "https://sonde/tenant/acme/agent/agent-1",
    "spiffe://sonde/tenant/ac%2fme/agent/a",
  ])("refuses %s", (uri) => {
    expect(parseSpiffeId(uri)).toBeUndefined();
  });

  it("refuses to build an id from a bad part, naming it", () => {
    expect(() => spiffeId({ tenant: "a.b", component: "agent", id: "x" })).toThrow(/invalid tenant "a.b"/);
    expect(() => spiffeId({ tenant: "a", component: "agent", id: "x/y" })).toThrow(/invalid id "x\/y"/);
  });
});

describe("certificate issuance", () => {
  it("issues a tenant CA: CA flag with path length 0, keyCertSign, the tenant in its name", async () => {
    const ca = await issueCa({ tenant: "acme", days: 365 });
    const cert = new x509.X509Certificate(ca.certPem);
    const bc = cert.getExtension(x509.BasicConstraintsExtension);
    expect(bc?.ca).toBe(true);
    expect(bc?.pathLength).toBe(0);
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect((ku?.usages ?? 0) & x509.KeyUsageFlags.keyCertSign).toBeTruthy();
    expect(cert.subjectName.getField("CN")).toEqual([caCommonName("acme")]);
    expect(await cert.isSelfSigned()).toBe(true);
    const days = (cert.notAfter.getTime() - cert.notBefore.getTime()) / 86_400_000;
    expect(days).toBe(365);
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    // node's own X509 (OpenSSL) agrees: a P-256 CA.
    const node = new NodeX509(ca.certPem);
    expect(node.ca).toBe(true);
    expect(node.publicKey.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
  });

  it("issues a leaf with exactly one SPIFFE URI SAN, host SANs, server+client EKU, chained to the CA", async () => {
    const pki = await tenantPki("acme");
    const leaf = await issueLeaf({
      ca: pki.ca,
      identity: { tenant: "acme", component: "agent", id: "agent-1" },
      hosts: ["localhost", "127.0.0.1", "::1", "Agent.Example.NET"],
      days: 10,
    });
    expect(leaf.spiffeId).toBe("spiffe://sonde/tenant/acme/agent/agent-1");
    const cert = new x509.X509Certificate(leaf.certPem);
    const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
    expect(names.map((n) => [n.type, n.value])).toEqual([
      ["url", "spiffe://sonde/tenant/acme/agent/agent-1"],
      ["dns", "localhost"],
      ["ip", "127.0.0.1"],
      ["ip", "::1"],
      ["dns", "agent.example.net"],
    ]);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages;
    expect(eku).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    const node = new NodeX509(leaf.certPem);
    expect(node.checkIssued(new NodeX509(pki.caPem.certPem))).toBe(true);
    expect(node.verify(new NodeX509(pki.caPem.certPem).publicKey)).toBe(true);
    expect(node.checkHost("agent.example.net")).toBe("agent.example.net");
    expect(node.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect((leaf.notAfter.getTime() - leaf.notBefore.getTime()) / 86_400_000).toBe(10);
  });

  it("refuses another tenant's identity from a CA, a leaf outliving its CA, bad hosts and bad days", async () => {
    const pki = await tenantPki("acme");
    const base = { ca: pki.ca, hosts: [], days: 7 };
    await expect(
      issueLeaf({ ...base, identity: { tenant: "globex", component: "agent", id: "a" } }),
    ).rejects.toMatchObject({ code: "SONDE_TLS_MATERIAL_INVALID" });
    await expect(
      issueLeaf({ ...base, days: 60, identity: { tenant: "acme", component: "agent", id: "a" } }),
    ).rejects.toThrow(/outlive its CA/);
    await expect(
      issueLeaf({
        ...base,
        hosts: ["*.example.com"],
        identity: { tenant: "acme", component: "agent", id: "a" },
      }),
    ).rejects.toThrow(/invalid host/);
    await expect(issueCa({ tenant: "acme", days: 0 })).rejects.toMatchObject({
      code: "SONDE_VALIDATION_FAILED",
    });
  });

  it("loads a CA only for its own tenant and with its own key", async () => {
    const acme = await tenantPki("acme");
    const globex = await tenantPki("globex");
    await expect(loadCa(acme.caPem, "globex")).rejects.toThrow(/not tenant globex's CA/);
    await expect(
      loadCa({ certPem: acme.caPem.certPem, keyPem: globex.caPem.keyPem }, "acme"),
    ).rejects.toThrow(/ca.key does not belong to ca.crt/);
    const expired = await issueCa({
      tenant: "acme",
      days: 1,
      validFrom: new Date(Date.now() - 3 * 86_400_000),
    });
    await expect(loadCa(expired, "acme")).rejects.toThrow(/expired/);
  });
});

describe("certificate files", () => {
  it("writes private keys 0600, refuses to overwrite without force, and reads the directory back", async () => {
    const acme = await tenantPki("acme");
    const dir = acme.writeCaDir();
    expect(statSync(join(dir, CA_FILES.key)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, CA_FILES.cert)).mode & 0o777).toBe(0o644);
    const before = readFileSync(join(dir, CA_FILES.key), "utf8");
    expect(() =>
      writeOutputFiles(dir, [{ name: CA_FILES.key, content: "x", secret: true }], { force: false }),
    ).toThrow(/refusing to overwrite .*ca\.key \(use --force/);
    expect(readFileSync(join(dir, CA_FILES.key), "utf8")).toBe(before);
    writeOutputFiles(dir, [{ name: CA_FILES.key, content: "replaced", secret: true }], { force: true });
    expect(readFileSync(join(dir, CA_FILES.key), "utf8")).toBe("replaced");
    expect(statSync(join(dir, CA_FILES.key)).mode & 0o777).toBe(0o600);
    await expect(loadCaDir(dir, "acme")).rejects.toThrow(/not a PKCS#8/);
    await expect(loadCaDir(tempDir("empty"), "acme")).rejects.toThrow(/ca\.crt not found/);
  });

  it("loads a component directory and names its identity; refuses mismatched pieces", async () => {
    const acme = await tenantPki("acme");
    const globex = await tenantPki("globex");
    const material = await acme.leaf("poller", "poller-1");
    const dir = leafDir(material);
    const loaded = await loadTlsMaterial(dir);
    expect(loaded.identity).toEqual({ tenant: "acme", component: "poller", id: "poller-1" });
    expect(loaded.cert).toBe(material.cert);
    expect(statSync(join(dir, "tls.key")).mode & 0o777).toBe(0o600);

    writeFileSync(join(dir, "ca.crt"), globex.caPem.certPem);
    await expect(loadTlsMaterial(dir)).rejects.toThrow(/was not issued by/);
    writeFileSync(join(dir, "ca.crt"), acme.caPem.certPem);
    writeFileSync(join(dir, "tls.key"), (await acme.leaf("poller", "other")).key);
    await expect(loadTlsMaterial(dir)).rejects.toThrow(/tls.key does not belong to tls.crt/);
  });
});
