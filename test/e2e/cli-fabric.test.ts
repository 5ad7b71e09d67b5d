import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadTlsMaterial } from "../../src/platform/fabric/certs/index.js";
import { tempDir } from "../support/fabric-pki.js";
import { type SondeProcess, spawnSonde } from "../support/sonde-process.js";

// Real `sonde` processes, one after another; each start can take seconds on two busy cores.
vi.setConfig({ testTimeout: 120_000 });

/** `sonde certs` and `sonde nats-config` as an operator runs them: files, modes, exit codes, output. */
describe("sonde certs and nats-config", () => {
  const running: SondeProcess[] = [];
  const run = async (args: string[]) => {
    const p = spawnSonde(args);
    running.push(p);
    const code = await p.exited(60_000);
    return { code, out: p.stdout(), err: p.stderr() };
  };
  afterEach(() => {
    for (const p of running.splice(0)) p.kill();
  });

  it("creates a tenant CA, issues an agent certificate from it, and refuses to overwrite keys", async () => {
    const root = tempDir("cli-certs");
    const caDir = join(root, "ca");
    const agentDir = join(root, "agent");
    const ca = await run(["certs", "ca", "--tenant", "acme", "--out", caDir, "--days", "30"]);
    expect(ca).toMatchObject({ code: 0, err: "" });
    expect(ca.out).toContain('"Sonde tenant acme CA" valid until');
    expect(statSync(join(caDir, "ca.key")).mode & 0o777).toBe(0o600);

    const issue = await run([
      "certs",
      "issue",
      "--tenant",
      "acme",
      "--component",
      "agent",
      "--id",
      "agent-1",
      "--ca-dir",
      caDir,
      "--out",
      agentDir,
      "--host",
      "agent-1.acme.example",
      "--days",
      "7",
    ]);
    expect(issue).toMatchObject({ code: 0, err: "" });
    expect(issue.out).toContain("spiffe://sonde/tenant/acme/agent/agent-1 for agent-1.acme.example");
    expect((await loadTlsMaterial(agentDir)).identity).toEqual({
      tenant: "acme",
      component: "agent",
      id: "agent-1",
    });
    expect(statSync(join(agentDir, "tls.key")).mode & 0o777).toBe(0o600);
    expect(issue.out + ca.out).not.toContain("PRIVATE KEY");

    const key = readFileSync(join(caDir, "ca.key"), "utf8");
    const again = await run(["certs", "ca", "--tenant", "acme", "--out", caDir]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(
      /^sonde: SONDE_FILE_EXISTS: refusing to overwrite .*ca\.crt, .*ca\.key \(use --force/,
    );
    expect(readFileSync(join(caDir, "ca.key"), "utf8")).toBe(key);

    const crossTenant = await run([
      "certs",
      "issue",
      "--tenant",
      "globex",
      "--component",
      "poller",
      "--id",
      "p",
      "--ca-dir",
      caDir,
      "--out",
      join(root, "x"),
    ]);
    expect(crossTenant.code).toBe(1);
    expect(crossTenant.err).toMatch(
      /SONDE_TLS_MATERIAL_INVALID: the CA is "Sonde tenant acme CA", not tenant globex's CA/,
    );
  });

  it("writes nats-server authorization and credentials without printing a password", async () => {
    const out = tempDir("cli-nats");
    const r = await run(["nats-config", "--tenant", "acme", "--tenant", "globex", "--out", out]);
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out).toContain("user sonde-tenant-acme: credentials in");
    const password = new URL(
      (readFileSync(join(out, "tenant-acme.env"), "utf8").match(/^NATS_URL=(.*)$/m) ?? [])[1] ?? "nats://x",
    ).password;
    expect(password.length).toBeGreaterThan(30);
    expect(r.out).not.toContain(password);
    expect(statSync(join(out, "nats-auth.conf")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, "nats-auth.conf"), "utf8")).toContain(password);
  });
});
