import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createTestPostgresDatabase } from "../support/databases.js";
import { serviceGate } from "../support/services.js";
import { listeningUrl, type SondeProcess, spawnSonde, tempDataDir } from "../support/sonde-process.js";

// Each test starts several real `sonde` processes one after another; on two cores beside the rest
// of the suite one start can take seconds, so these tests get a wider (still bounded) limit.
vi.setConfig({ testTimeout: 120_000 });

const running: SondeProcess[] = [];
function run(args: string[], env: NodeJS.ProcessEnv): SondeProcess {
  const p = spawnSonde(args, env);
  running.push(p);
  return p;
}
afterEach(() => {
  for (const p of running.splice(0)) p.kill();
});

/** What a command printed on stdout (plain lines; JSON log lines are left out). */
const printed = (p: SondeProcess) =>
  p.logs
    .filter((l) => !("name" in l))
    .map((l) => l.msg)
    .join("\n");

describe("sonde keys (embedded data dir)", () => {
  it("lists the key core created, rotates offline, refuses a wrong secret, and core starts on the new key", async () => {
    const dataDir = tempDataDir();
    const env = { SONDE_DATA_DIR: dataDir };
    const core = run(["start"], env);
    await listeningUrl(core);
    expect(core.logs.find((l) => l.msg === "keyring loaded")).toMatchObject({ activeKey: "k1" });

    // The data dir belongs to the running server: rotation waits for it to stop.
    const busy = run(["keys", "rotate"], env);
    expect(await busy.exited()).toBe(78);
    expect(busy.stderr()).toMatch(/is in use by another Sonde process/);
    core.child.kill("SIGTERM");
    expect(await core.exited(15_000)).toBe(0);

    const list = run(["keys", "list"], env);
    expect(await list.exited()).toBe(0);
    expect(printed(list)).toMatch(/^k1\tactive\t\d{4}-\S+\t-$/m);

    const wrong = "w".repeat(40);
    const refused = run(["keys", "rotate"], { ...env, SONDE_SECRET: wrong });
    expect(await refused.exited()).toBe(78);
    expect(refused.stderr()).toBe(
      "sonde: SONDE_CONFIG_INVALID: SONDE_SECRET does not match the keys in the database (key k1 does not unwrap)\n",
    );
    expect(refused.stderr() + JSON.stringify(refused.logs)).not.toContain(wrong);

    const rotate = run(["keys", "rotate"], env);
    expect(await rotate.exited()).toBe(0);
    expect(printed(rotate)).toContain("keys: k2 is active; k1 retired (kept to decrypt older values)");
    expect(printed(rotate)).toContain("keys: re-encrypted 0 values under k2; 0 changed, 0 failed");

    const after = run(["keys", "list"], env);
    expect(await after.exited()).toBe(0);
    expect(printed(after)).toMatch(/^k1\tretired\t\d{4}-\S+\t\d{4}-\S+$/m);
    expect(printed(after)).toMatch(/^k2\tactive\t\d{4}-\S+\t-$/m);

    const again = run(["start"], env);
    await listeningUrl(again);
    expect(again.logs.find((l) => l.msg === "keyring loaded")).toMatchObject({ activeKey: "k2" });
    again.child.kill("SIGTERM");
    expect(await again.exited(15_000)).toBe(0);
  });

  it("asks for migrations first on a data dir that has none", async () => {
    const p = run(["keys", "rotate"], { SONDE_DATA_DIR: tempDataDir() });
    expect(await p.exited()).toBe(1);
    expect(p.stderr()).toMatch(/migration\(s\) pending: run `sonde migrate` first/);
  });
});

describe.runIf(serviceGate("postgres").run)("sonde keys (PostgreSQL, as the owner)", () => {
  const drops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  it("creates the first key on a database without one, then rotates", async () => {
    const pgdb = await createTestPostgresDatabase();
    drops.push(pgdb.drop);
    // The owner's URL; the secret comes from the environment, as in production.
    const env = { DATABASE_MIGRATION_URL: pgdb.url, DATABASE_URL: pgdb.url, SONDE_SECRET: "p".repeat(40) };
    expect(await run(["migrate"], env).exited()).toBe(0);
    const first = run(["keys", "rotate"], env);
    expect(await first.exited()).toBe(0);
    expect(printed(first)).toContain("keys: k1 is active");
    const second = run(["keys", "rotate"], env);
    expect(await second.exited()).toBe(0);
    expect(printed(second)).toContain("keys: k2 is active; k1 retired (kept to decrypt older values)");
    const list = run(["keys", "list"], { DATABASE_URL: pgdb.url, SONDE_SECRET: "p".repeat(40) });
    expect(await list.exited()).toBe(0);
    expect(printed(list)).toMatch(/^k1\tretired\t.+\nk2\tactive\t/m);
  });
});
