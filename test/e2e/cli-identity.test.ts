import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createTestPostgresDatabase } from "../support/databases.js";
import { serviceGate } from "../support/services.js";
import { listeningUrl, type SondeProcess, spawnSonde, tempDataDir } from "../support/sonde-process.js";

/**
 * `sonde tenant | user | token` against the real binary, on an embedded data dir and on PostgreSQL,
 * with the same steps for both: what the CLI makes is then used by a real Sonde server.
 */

const running: SondeProcess[] = [];
afterEach(() => {
  for (const p of running.splice(0)) p.kill();
});

interface Ran {
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one command to its end; stdout is complete (the pipes have closed). */
async function sonde(args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const p = spawnSonde(args, env);
  running.push(p);
  const closed = new Promise((resolve) => p.child.once("close", resolve));
  const code = await p.exited();
  await closed;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** The one JSON document a `--json` command printed: all of stdout must parse. */
async function json<T>(args: string[], env: NodeJS.ProcessEnv): Promise<T> {
  const r = await sonde([...args, "--json"], env);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** The `sonde: CODE: message` line of a refused command (logs are JSON lines on stderr too). */
const refusal = (r: Ran) => r.stderr.split("\n").find((l) => l.startsWith("sonde: ")) ?? r.stderr;

interface Target {
  /** Environment of every command: the data dir or the database, and the secret. */
  readonly env: NodeJS.ProcessEnv;
  /** The server that serves what the CLI made: `start` on the data dir, `core` on PostgreSQL. */
  readonly server: string;
  /** Embedded: the server holds the data dir, so the CLI must wait for it to stop. */
  readonly locksDataDir: boolean;
}

async function startServer(t: Target): Promise<{ url: string; stop(): Promise<void> }> {
  const p = spawnSonde([t.server], t.env);
  running.push(p);
  const url = await listeningUrl(p);
  return {
    url,
    async stop() {
      p.child.kill("SIGTERM");
      expect(await p.exited(15_000)).toBe(0);
    },
  };
}

const me = (url: string, token: string) =>
  fetch(`${url}/api/v2/me`, { headers: { authorization: `Bearer ${token}` } });

async function identityLifecycle(t: Target): Promise<void> {
  const env = t.env;

  const early = await sonde(["tenant", "list"], env);
  expect(early.code).toBe(1);
  expect(refusal(early)).toMatch(/^sonde: \d+ migration\(s\) pending: run `sonde migrate` first$/);
  expect(early.stdout).toBe("");
  expect((await sonde(["migrate"], env)).code).toBe(0);

  // Tenants: JSON and plain, the contact address stored encrypted and shown decrypted.
  const acme = await json<Record<string, unknown>>(
    [
      "tenant",
      "create",
      "--slug",
      "acme",
      "--name",
      "Acme",
      "--max-users",
      "1",
      "--contact-email",
      "ops@acme.example",
    ],
    env,
  );
  expect(acme).toMatchObject({ slug: "acme", name: "Acme", status: "active", max_users: 1 });
  expect(acme.contact_email).toBe("ops@acme.example");
  const globex = await sonde(["tenant", "create", "--slug", "globex", "--name", "Globex"], env);
  expect(globex.code).toBe(0);
  expect(globex.stdout).toMatch(/^tenant globex created \(id [0-9a-f-]{36}\)\n$/);

  const duplicate = await sonde(["tenant", "create", "--slug", "acme", "--name", "Again"], env);
  expect(duplicate.code).toBe(1);
  expect(refusal(duplicate)).toBe("sonde: SONDE_CONFLICT: a tenant with the slug acme exists already");
  const badSlug = await sonde(["tenant", "create", "--slug", "Not_A_Slug", "--name", "X"], env);
  expect(badSlug.code).toBe(1);
  expect(refusal(badSlug)).toMatch(/^sonde: SONDE_VALIDATION_FAILED: slug: /);

  const tenants = await json<Array<{ slug: string; status: string }>>(["tenant", "list"], env);
  expect(tenants.map((x) => x.slug)).toEqual(["acme", "globex"]);
  expect((await sonde(["tenant", "suspend", "globex"], env)).stdout).toBe("tenant globex suspended\n");
  expect(await json(["tenant", "resume", "globex"], env)).toMatchObject({ slug: "globex", status: "active" });
  const plainList = (await sonde(["tenant", "list"], env)).stdout.split("\n");
  expect(plainList[0]).toMatch(/^SLUG\s+NAME\s+STATUS/);
  expect(plainList[1]).toMatch(/^acme\s+Acme\s+active\s+1\s/);
  const unknown = await sonde(["user", "list", "--tenant", "nope"], env);
  expect(unknown.code).toBe(1);
  expect(refusal(unknown)).toBe("sonde: SONDE_NOT_FOUND: no tenant nope");

  // Users: created with a password from the environment, never printed.
  const password = "correct horse battery staple";
  const alice = await json<{ user: { created: boolean; email: string }; role: string }>(
    [
      "user",
      "create",
      "--tenant",
      "acme",
      "--email",
      "Alice@Example.com",
      "--role",
      "operator",
      "--name",
      "Alice",
    ],
    { ...env, SONDE_USER_PASSWORD: password },
  );
  expect(alice).toMatchObject({ user: { created: true, email: "alice@example.com" }, role: "operator" });

  // acme allows one member: bob is refused, and the user made for him is gone again.
  const bob = await sonde(
    ["user", "create", "--tenant", "acme", "--email", "bob@example.com", "--role", "viewer"],
    env,
  );
  expect(bob.code).toBe(1);
  expect(refusal(bob)).toMatch(
    /^sonde: SONDE_TENANT_LIMIT_REACHED: tenant acme may have at most 1 .*max_users/,
  );
  const bobElsewhere = await json<{ user: { created: boolean } }>(
    ["user", "create", "--tenant", "globex", "--email", "bob@example.com", "--role", "viewer"],
    env,
  );
  expect(bobElsewhere.user.created).toBe(true);
  const aliceElsewhere = await sonde(
    ["user", "create", "--tenant", "globex", "--email", "alice@example.com", "--role", "admin"],
    env,
  );
  expect(aliceElsewhere.stdout).toBe("added existing user alice@example.com to globex as admin\n");

  const again = await sonde(
    ["user", "create", "--tenant", "acme", "--email", "alice@example.com", "--role", "admin"],
    env,
  );
  expect(again.code).toBe(1);
  expect(refusal(again)).toBe(
    "sonde: SONDE_CONFLICT: alice@example.com is already a member of acme (role operator): use `sonde user set-role` to change it",
  );
  const promoted = await sonde(
    ["user", "set-role", "--tenant", "acme", "--email", "alice@example.com", "--role", "admin"],
    env,
  );
  expect(promoted.stdout).toBe("alice@example.com is now admin in acme (was operator)\n");
  expect(await json(["user", "list", "--tenant", "acme"], env)).toEqual([
    expect.objectContaining({ email: "alice@example.com", name: "Alice", role: "admin", status: "active" }),
  ]);

  // A token, shown once: alone on stdout, the warning on stderr; listed without it.
  const created = await sonde(
    [
      "token",
      "create",
      "--tenant",
      "acme",
      "--user",
      "alice@example.com",
      "--scope",
      "write",
      "--name",
      "ci",
    ],
    env,
  );
  expect(created.code, created.stderr).toBe(0);
  expect(created.stdout).toMatch(/^sonde_\S{32,}\n$/);
  const token = created.stdout.trim();
  expect(created.stderr).toMatch(/is shown only once/);
  const listed = await sonde(
    ["token", "list", "--tenant", "acme", "--user", "alice@example.com", "--json"],
    env,
  );
  const tokens = JSON.parse(listed.stdout) as Array<{
    id: string;
    prefix: string;
    scope: string;
    user: string;
  }>;
  expect(tokens).toEqual([
    expect.objectContaining({ name: "ci", scope: "write", user: "alice@example.com" }),
  ]);
  expect(token.startsWith(tokens[0]?.prefix ?? "-")).toBe(true);
  expect(listed.stdout + listed.stderr).not.toContain(token);
  const id = tokens[0]?.id ?? "";

  // The token works against a real server started on what the CLI wrote.
  let server = await startServer(t);
  const ok = await me(server.url, token);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({
    user: { email: "alice@example.com" },
    tenant: { slug: "acme" },
    role: "admin",
    scopes: ["write"],
  });
  if (t.locksDataDir) {
    const busy = await sonde(["token", "revoke", "--tenant", "acme", id], env);
    expect(busy.code).toBe(78);
    expect(refusal(busy)).toMatch(
      /^sonde: SONDE_CONFIG_INVALID: SONDE_DATA_DIR .+ is in use by another Sonde process \(pid \d+\)$/,
    );
    await server.stop();
  }
  const revoked = await json<{ revoked_at: string | null }>(["token", "revoke", "--tenant", "acme", id], env);
  expect(revoked.revoked_at).not.toBeNull();
  if (t.locksDataDir) server = await startServer(t);
  expect((await me(server.url, token)).status).toBe(401);
  await server.stop();

  // Removing a member ends the membership only: the user stays a member elsewhere.
  const removed = await sonde(["user", "remove", "--tenant", "globex", "--email", "bob@example.com"], env);
  expect(removed.stdout).toBe("bob@example.com removed from globex (the user account remains)\n");
  expect(
    (await json<Array<{ email: string }>>(["user", "list", "--tenant", "globex"], env)).map((m) => m.email),
  ).toEqual(["alice@example.com"]);
  const output = JSON.stringify(running.map((p) => p.stdout() + p.stderr()));
  expect(output).not.toContain(password);
}

/**
 * Each lifecycle spawns some thirty `sonde` processes, each loading the whole TypeScript source
 * through tsx: minutes on a loaded 2-core machine. Bounded all the same.
 */
const LIFECYCLE_TIMEOUT_MS = 480_000;

describe("sonde tenant | user | token (embedded data dir)", () => {
  it(
    "administers tenants, members and tokens offline, then a server honours and revokes the token",
    async () => {
      await identityLifecycle({
        env: { SONDE_DATA_DIR: tempDataDir() },
        server: "start",
        locksDataDir: true,
      });
    },
    LIFECYCLE_TIMEOUT_MS,
  );

  it("explains the password variable in help", async () => {
    const help = await sonde(["user", "create", "--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("SONDE_USER_PASSWORD");
  });
});

describe.runIf(serviceGate("postgres").run)("sonde tenant | user | token (PostgreSQL)", () => {
  const drops: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  it(
    "administers tenants, members and tokens beside a running core",
    async () => {
      const pgdb = await createTestPostgresDatabase();
      drops.push(pgdb.drop);
      await identityLifecycle({
        env: { DATABASE_URL: pgdb.url, SONDE_SECRET: "p".repeat(40) },
        server: "core",
        locksDataDir: false,
      });
    },
    LIFECYCLE_TIMEOUT_MS,
  );
});
