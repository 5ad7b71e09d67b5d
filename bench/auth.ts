/**
 * `npm run bench -- auth [--embedded] [--rounds=N]`
 *
 * What authenticating a request costs: a route that only resolves the request's actor (the resolver
 * every API route runs), with an API token and with a session cookie, against the same route without
 * authentication as the baseline, in one process over Fastify's inject (no sockets); and, for scale,
 * `GET /api/v2/me`, which adds the caller's user, tenant and memberships. On a fresh PostgreSQL database (BENCH_DATABASE_URL,
 * created and dropped), or an in-memory PGlite with `--embedded` (metrics prefixed `embedded_`).
 * Token use is counted in memory and flushed in batches, as in core. Figures are medians of per-round
 * means over interleaved rounds; the resolver's cost is the median of per-round differences to the
 * baseline route.
 */
import type { FastifyInstance } from "fastify";
import { authenticate } from "../src/api/auth/actor.js";
import { meRoutes } from "../src/api/auth/me.js";
import { createActorResolver } from "../src/api/auth/resolver.js";
import { authRoutes } from "../src/api/auth/routes.js";
import { buildHttpServer } from "../src/api/http/server.js";
import { createAuth } from "../src/domains/identity/auth.js";
import { TokenUsage } from "../src/domains/identity/token-usage.js";
import { createUser } from "../src/domains/identity/users.js";
import { systemActor } from "../src/kernel/actor.js";
import { Kernel } from "../src/kernel/kernel.js";
import { openKeyring } from "../src/platform/crypto/index.js";
import { migrateUp } from "../src/platform/db/migrate.js";
import type { Database } from "../src/platform/db/types.js";
import { noMailer } from "../src/platform/mail/no-mail.js";
import { createMetrics } from "../src/platform/metrics/registry.js";
import { coreResources } from "../src/roles/resources.js";
import {
  type BenchDatabase,
  DEFAULT_BENCH_DATABASE_URL,
  openBenchEmbedded,
  openBenchPostgres,
  silentLogger,
} from "./kernel/database.js";
import type { Benchmark } from "./registry.js";
import { median, report } from "./stats.js";

const ORIGIN = "http://localhost:8080";
const PASSWORD = "a benchmark password";
const PER_ROUND = 200;

interface Setup {
  readonly app: FastifyInstance;
  readonly token: string;
  readonly cookie: string;
  readonly usage: TokenUsage;
}

async function setUp(db: Database): Promise<Setup> {
  await migrateUp(db);
  const keyring = await openKeyring(db.orm, "b".repeat(40));
  const kernel = new Kernel({ orm: db.orm, resources: coreResources, logger: silentLogger, keyring });
  const system = { actor: systemActor("bench") };
  const tenant = await kernel.create(kernel.resource("tenant"), system, { slug: "bench", name: "Bench" });
  const config = { SONDE_SECRET: "b".repeat(40), SONDE_PUBLIC_URL: ORIGIN, PORT: 8080 };
  const auth = createAuth({ orm: db.orm, config, logger: silentLogger, mailer: noMailer("the benchmark") });
  const userId = await createUser(auth, {
    email: "bench@example.com",
    name: "Bench",
    password: PASSWORD,
    emailVerified: true,
  });
  const inTenant = { actor: systemActor("bench"), tenantId: String(tenant.id) };
  await kernel.create(kernel.resource("membership"), inTenant, { user_id: userId, role: "admin" });
  let token = "";
  await kernel.create(
    kernel.resource("api_token"),
    inTenant,
    { name: "bench", scope: "read", user_id: userId },
    { output: (o) => (token = String(o.token)) },
  );
  const usage = new TokenUsage(db.orm, silentLogger, 1_000);
  usage.start();
  const resolveActor = createActorResolver({ auth, orm: db.orm, logger: silentLogger, tokenUsage: usage });
  const app = await buildHttpServer({
    logger: silentLogger,
    metrics: createMetrics({ version: "bench", node: "bench", roles: ["core"] }),
    readiness: [],
    bodyLimitBytes: 1 << 20,
    home: false,
    isDraining: () => false,
  });
  await app.register(authRoutes, { auth, publicUrl: ORIGIN });
  await app.register(meRoutes, { prefix: "/api/v2", orm: db.orm, auth, resolveActor });
  app.get("/bench/none", async () => ({ ok: true }));
  app.get("/bench/resolve", async (request) => {
    const actor = await authenticate(request, resolveActor);
    return { ok: actor.kind === "user" };
  });
  await app.ready();
  const signIn = await app.inject({
    method: "POST",
    url: "/api/auth/sign-in/email",
    headers: { origin: ORIGIN, "content-type": "application/json" },
    payload: JSON.stringify({ email: "bench@example.com", password: PASSWORD }),
  });
  const setCookie = signIn.headers["set-cookie"];
  const cookies = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie];
  const cookie = cookies.map((c) => c.split(";")[0]).join("; ");
  if (signIn.statusCode !== 200 || token === "") throw new Error("bench set-up: sign-in or token failed");
  return { app, token, cookie, usage };
}

/** Mean milliseconds per request over `PER_ROUND` sequential requests; fails on any non-200. */
async function round(app: FastifyInstance, url: string, headers: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < PER_ROUND; i++) {
    const res = await app.inject({ method: "GET", url, headers });
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  }
  return (performance.now() - t0) / PER_ROUND;
}

async function run(args: readonly string[]): Promise<void> {
  const embedded = args.includes("--embedded");
  const roundsArg = args.find((a) => a.startsWith("--rounds="));
  const rounds = roundsArg !== undefined ? Number(roundsArg.slice("--rounds=".length)) : 7;
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error("--rounds needs a positive integer");
  const prefix = embedded ? "embedded_" : "";
  const bench: BenchDatabase = embedded
    ? await openBenchEmbedded()
    : await openBenchPostgres(process.env.BENCH_DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL);
  try {
    const s = await setUp(bench.db);
    const token = { authorization: `Bearer ${s.token}` };
    const session = { cookie: s.cookie, origin: ORIGIN };
    // Warm-up: JIT, prepared statements, connection pool.
    await round(s.app, "/bench/none", {});
    await round(s.app, "/bench/resolve", token);
    await round(s.app, "/bench/resolve", session);
    await round(s.app, "/api/v2/me", token);
    const base: number[] = [];
    const tok: number[] = [];
    const ses: number[] = [];
    const meTok: number[] = [];
    for (let r = 0; r < rounds; r++) {
      base.push(await round(s.app, "/bench/none", {}));
      tok.push(await round(s.app, "/bench/resolve", token));
      ses.push(await round(s.app, "/bench/resolve", session));
      meTok.push(await round(s.app, "/api/v2/me", token));
    }
    report(`${prefix}unauthenticated_route_ms`, median(base), "ms", 3);
    report(`${prefix}resolve_api_token_ms`, median(tok.map((t, i) => t - (base[i] ?? 0))), "ms", 3);
    report(`${prefix}resolve_session_ms`, median(ses.map((t, i) => t - (base[i] ?? 0))), "ms", 3);
    report(`${prefix}me_with_api_token_ms`, median(meTok), "ms", 3);
    await s.usage.stop();
    await s.app.close();
  } finally {
    await bench.dispose();
  }
}

export const authBench: Benchmark = {
  description: "the actor resolver's cost per request, by API token and by session (add --embedded)",
  run,
};
