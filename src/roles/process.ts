import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { meRoutes } from "../api/auth/me.js";
import { createActorResolver } from "../api/auth/resolver.js";
import { invitationRoutes } from "../api/auth/invitation-routes.js";
import { resetPageRoutes } from "../api/auth/reset-page.js";
import { authRoutes } from "../api/auth/routes.js";
import { buildHttpServer } from "../api/http/server.js";
import { devMailboxRoutes } from "../api/routes/dev-mailbox.js";
import { clusterOpenApiPaths, clusterRoutes } from "../api/infrastructure/cluster-route.js";
import { syncRoutes } from "../api/inventory/sync-route.js";
import { jsonApiRoutes } from "../api/jsonapi/routes.js";
import { openApiRoutes } from "../api/openapi/routes.js";
import { createAuth, publicUrl, startSignIn } from "../domains/identity/auth.js";
import { DEFAULT_PARTITION } from "../domains/inventory/dire/identifiers.js";
import { bootstrapFirstRun, DEFAULT_TENANT } from "../domains/identity/bootstrap.js";
import { TokenUsage } from "../domains/identity/token-usage.js";
import { SondeError } from "../lib/errors.js";
import { SONDE_VERSION } from "../lib/version.js";
import { createBus } from "../platform/bus/index.js";
import type { Config } from "../platform/config/index.js";
import type { ReadinessCheck } from "../platform/health.js";
import { createMailer } from "../platform/mail/index.js";
import { createMetrics } from "../platform/metrics/registry.js";
import type { AgentCaller } from "../platform/fabric/agent-caller.js";
import { startCore } from "./core.js";
import { type AgentRoleOptions, startAgentRole } from "./agent-role.js";
import { ephemeralFabricTls } from "./fabric-tls.js";
import { componentIdFromNode, type PollerRoleOptions, startPollerRole } from "./poller.js";
import { Runtime } from "./runtime.js";

export const ROLE_NAMES = ["core", "poller", "agent"] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

export interface RunningProcess {
  readonly runtime: Runtime;
  /** The HTTP listener's address, e.g. http://127.0.0.1:8080. */
  readonly url: string;
  readonly http: FastifyInstance;
  shutdown(reason: string): Promise<boolean>;
}

/** Per-role settings from the command line, and transports supplied by the caller. */
export interface ProcessOptions {
  readonly poller?: PollerRoleOptions;
  readonly agent?: AgentRoleOptions;
  /** How pollers reach agents (the gRPC AgentService client). */
  readonly agentCaller?: AgentCaller;
}

/** The all-in-one process's fabric: one poller and one agent of tenant `default`, partition `default`. */
async function allInOneFabric(
  node: string,
  logger: Logger,
): Promise<{ poller: PollerRoleOptions; agent: AgentRoleOptions }> {
  const ids = { poller: `${componentIdFromNode(node)}-poller`, agent: `${componentIdFromNode(node)}-agent` };
  const tls = await ephemeralFabricTls(DEFAULT_TENANT.slug, ids, logger);
  const where = { tenant: DEFAULT_TENANT.slug, partition: DEFAULT_PARTITION };
  return {
    poller: { ...where, id: ids.poller, tls: tls.client },
    agent: { ...where, id: ids.agent, listen: "127.0.0.1:0", tls: tls.server },
  };
}

/**
 * Starts the given roles in this process, sharing one bus connection and one HTTP listener. Core
 * brings the database and job queue; pollers and agents never open a database. When anything fails
 * to start, what did start is stopped again before the error is rethrown.
 */
export async function startProcess(
  roles: readonly RoleName[],
  config: Config,
  logger: Logger,
  options: ProcessOptions = {},
): Promise<RunningProcess> {
  if (!roles.includes("core") && config.NATS_URL === undefined) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      `NATS_URL is required to run ${roles.join(" and ")} on its own: the in-process bus only connects roles inside one process`,
    );
  }
  const runtime = new Runtime(logger);
  const timeout = config.SONDE_SHUTDOWN_TIMEOUT_MS;
  try {
    const metrics = createMetrics({ version: SONDE_VERSION, node: config.SONDE_NODE_NAME, roles });
    const readiness: ReadinessCheck[] = [];
    const routes: Array<(app: FastifyInstance) => Promise<void>> = [];

    const bus = await createBus({
      natsUrl: config.NATS_URL,
      name: `sonde-${config.SONDE_NODE_NAME}`,
      logger,
      ...(config.NATS_INBOX_PREFIX === undefined ? {} : { inboxPrefix: config.NATS_INBOX_PREFIX }),
    });
    runtime.add({ name: "bus", stop: () => bus.close() });
    readiness.push({ name: "bus", check: () => bus.ping() });
    logger.info({ bus: bus.kind }, "bus connected");

    if (roles.includes("core")) {
      // Before core, so that it stops after the job workers and HTTP that may still send mail.
      const mail = createMailer(config, logger);
      runtime.add({ name: "mail", stop: () => mail.mailer.close() });
      // Not a readiness check: a relay outage must not take core out of the load balancer.
      void mail.mailer
        .ping?.()
        .catch((err: unknown) => logger.warn({ err }, "mail relay unreachable at start"));
      const devMailbox = mail.devMailbox;
      if (devMailbox !== undefined) {
        routes.push(async (app) => {
          await app.register(devMailboxRoutes, { mailbox: devMailbox });
        });
      }
      const services = { mailer: mail.mailer, publicUrl: publicUrl(config) };
      const core = await startCore({ config, logger, runtime, bus, services, metrics: metrics.registry });
      readiness.push(...core.readiness);
      // better-auth works on core's own connection: its tables are global and hold secrets, so
      // they stay outside tenant transactions (migrations/0004_identity.sql).
      const auth = createAuth({ orm: core.db.orm, config, logger, mailer: mail.mailer });
      await startSignIn(auth, config, logger);
      // Before the listener: a fresh install serves nothing until it has a tenant and a super user.
      await bootstrapFirstRun({ orm: core.db.orm, auth, config, logger });
      const tokenUsage = new TokenUsage(core.db.orm, logger);
      tokenUsage.start();
      runtime.add({ name: "token-usage", stop: () => tokenUsage.stop() });
      const resolveActor = createActorResolver({ auth, orm: core.db.orm, logger, tokenUsage });
      routes.push(async (app) => {
        await app.register(authRoutes, { auth, publicUrl: publicUrl(config) });
        await app.register(meRoutes, { prefix: "/api/v2", orm: core.db.orm, auth, resolveActor });
        await app.register(invitationRoutes, { orm: core.db.orm, auth, kernel: core.kernel });
        await app.register(resetPageRoutes, { auth });
        await app.register(jsonApiRoutes, { prefix: "/api/v2", kernel: core.kernel, resolveActor });
        // Beside the JSON:API: POST /devices/sync is a route of its own (JSON:API has no POST /devices/:id).
        await app.register(syncRoutes, {
          prefix: "/api/v2",
          ingest: core.ingest,
          resolveActor,
          maxBodyBytes: config.SONDE_SYNC_MAX_BODY_BYTES,
          maxRecords: config.SONDE_SYNC_MAX_RECORDS,
        });
        await app.register(clusterRoutes, {
          prefix: "/api/v2",
          kernel: core.kernel,
          resolveActor,
          coreInstances: core.coreInstances,
        });
        await app.register(openApiRoutes, {
          prefix: "/api/v2",
          kernel: core.kernel,
          extraPaths: clusterOpenApiPaths,
        });
      });
    }
    // All roles in one process and no fabric settings: the default tenant's default partition gets
    // a poller and an agent, on loopback, with mutual TLS from a CA that lives only in memory.
    let fabric = options;
    if (
      ROLE_NAMES.every((r) => roles.includes(r)) &&
      options.poller === undefined &&
      options.agent === undefined
    ) {
      fabric = { ...options, ...(await allInOneFabric(config.SONDE_NODE_NAME, logger)) };
    }
    if (roles.includes("agent") && fabric.agent !== undefined) {
      await startAgentRole({
        bus,
        bind: !roles.includes("core"),
        runtime,
        logger: logger.child({ role: "agent" }),
        node: config.SONDE_NODE_NAME,
        options: fabric.agent,
      });
    }
    if (roles.includes("poller")) {
      await startPollerRole({
        bus,
        bind: !roles.includes("core"),
        runtime,
        logger: logger.child({ role: "poller" }),
        node: config.SONDE_NODE_NAME,
        shutdownTimeoutMs: timeout,
        options: fabric.poller,
        agentCaller: fabric.agentCaller,
      });
    }
    for (const role of roles) {
      if (role !== "core") logger.info({ role }, `${role} role started`);
    }

    const http = await buildHttpServer({
      logger,
      metrics,
      readiness,
      bodyLimitBytes: config.SONDE_BODY_LIMIT_BYTES,
      home: roles.includes("core"),
      isDraining: () => runtime.isDraining(),
      routes,
    });
    const url = await http.listen({ port: config.PORT, host: config.HOST });
    runtime.add({ name: "http", stop: () => http.close() });
    logger.info({ url, roles, version: SONDE_VERSION }, "sonde is listening");
    return { runtime, url, http, shutdown: (reason) => runtime.shutdown(reason, timeout) };
  } catch (err) {
    await runtime.shutdown("start-up failed", timeout);
    throw err;
  }
}
