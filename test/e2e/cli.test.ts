import { afterEach, describe, expect, it, vi } from "vitest";
import { type SondeProcess, spawnSonde } from "../support/sonde-process.js";

// Each test starts several real `sonde` processes one after another; on two cores beside the rest
// of the suite one start can take seconds, so these tests get a wider (still bounded) limit.
vi.setConfig({ testTimeout: 120_000 });

/** Command-line behaviour that needs no running server: usage, version, configuration errors. */
describe("sonde command line", () => {
  const running: SondeProcess[] = [];
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const p = spawnSonde(args, env);
    running.push(p);
    return p;
  };
  afterEach(() => {
    for (const p of running.splice(0)) p.kill();
  });

  it("prints the version", async () => {
    const p = run(["version"]);
    expect(await p.exited()).toBe(0);
    expect(p.logs.map((l) => l.msg).join("\n")).toMatch(/^sonde \d+\.\d+\.\d+ \(node v\d+/);
  });

  it("has help for every command", async () => {
    for (const cmd of ["start", "core", "poller", "agent", "migrate", "version"]) {
      const p = run([cmd, "--help"]);
      expect(await p.exited()).toBe(0);
      expect(p.logs.map((l) => l.msg).join("\n")).toContain(`Usage: sonde ${cmd}`);
    }
    const root = run(["--help"]);
    expect(await root.exited()).toBe(0);
    expect(root.logs.map((l) => l.msg).join("\n")).toMatch(/Commands:[\s\S]*start[\s\S]*migrate/);
  });

  it("exits 2 on an unknown command", async () => {
    const p = run(["frobnicate"]);
    expect(await p.exited()).toBe(2);
    expect(p.stderr()).toContain("unknown command 'frobnicate'");
  });

  it("exits 78 with one line naming a bad variable", async () => {
    const p = run(["start"], { PORT: "eighty" });
    expect(await p.exited()).toBe(78);
    expect(p.stderr()).toBe('sonde: invalid configuration: PORT must be a whole number (got "eighty")\n');
  });

  it("refuses to run a poller on its own without NATS", async () => {
    const p = run(["poller"]);
    expect(await p.exited()).toBe(78);
    expect(p.stderr()).toMatch(/NATS_URL is required to run poller on its own/);
  });

  it("checks the poller's flags as usage", async () => {
    const half = run(["poller", "--tenant", "acme"]);
    expect(await half.exited()).toBe(2);
    expect(half.stderr()).toContain("--tenant and --partition go together");
    const bad = run(["poller", "--tenant", "Acme", "--partition", "p1"]);
    expect(await bad.exited()).toBe(2);
    expect(bad.stderr()).toContain("argument 'Acme' is invalid");
    const caps = run(["poller", "--tenant", "acme", "--partition", "p1", "--capabilities", "tcp,smtp"]);
    expect(await caps.exited()).toBe(2);
  });

  it("retries an unreachable database with backoff, then exits 1 without leaking the password", async () => {
    const started = Date.now();
    const p = run(["core"], {
      DATABASE_URL: "postgres://sonde:hunter2@127.0.0.1:1/sonde",
      SONDE_SECRET: "x".repeat(40),
      DATABASE_CONNECT_ATTEMPTS: "3",
    });
    expect(await p.exited(30_000)).toBe(1);
    const retries = p.logs.filter((l) => l.msg === "database connection failed, retrying");
    expect(retries).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(p.stderr()).toMatch(
      /^sonde: SONDE_DB_UNREACHABLE: cannot reach PostgreSQL at postgres:\/\/\*\*\*@127\.0\.0\.1:1\/sonde after 3 attempts: ECONNREFUSED/,
    );
    const everything = p.stderr() + JSON.stringify(p.logs);
    expect(everything).not.toContain("hunter2");
  });
});
