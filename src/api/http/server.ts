import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import { SondeError } from "../../lib/errors.js";
import type { ReadinessCheck } from "../../platform/health.js";
import type { Metrics } from "../../platform/metrics/registry.js";
import { healthRoutes } from "../routes/health.js";
import { homeRoutes } from "../routes/home.js";
import { errorBody, toSondeError } from "./error-response.js";

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: readonly ReadinessCheck[];
  readonly bodyLimitBytes: number;
  /** Whether to serve the placeholder home page (core only; pollers and agents serve health only). */
  readonly home: boolean;
  /** Returns true once shutdown has begun, so /readyz turns 503 before the listener closes. */
  readonly isDraining: () => boolean;
  /** Feature routes (JSON:API, OpenAPI…) the role brings, registered after the shell's own. */
  readonly routes?: ReadonlyArray<(app: FastifyInstance) => Promise<void>>;
}

/**
 * The HTTP server shell: error mapping, metrics, health. Feature routes (JSON:API, GraphQL, auth)
 * register as plugins on top of this in later layers; none of them formats its own errors.
 */
export async function buildHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = options.logger.child({ component: "http" });
  const app = Fastify({
    loggerInstance,
    bodyLimit: options.bodyLimitBytes,
    // Request logging is done once per response below, with the route pattern, not per event.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    forceCloseConnections: "idle",
    requestIdHeader: "x-request-id",
  });

  app.setErrorHandler((err, request, reply) => {
    const sondeErr = toSondeError(err);
    if (sondeErr.httpStatus >= 500) request.log.error({ err }, "request failed");
    void reply.status(sondeErr.httpStatus).type("application/json").send(errorBody(sondeErr));
  });

  app.setNotFoundHandler((request, reply) => {
    const err = new SondeError(
      "SONDE_ROUTE_NOT_FOUND",
      `no route for ${request.method} ${request.url.split("?")[0]}`,
    );
    void reply.status(err.httpStatus).type("application/json").send(errorBody(err));
  });

  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    const seconds = reply.elapsedTime / 1000;
    options.metrics.httpRequestDuration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      seconds,
    );
    request.log.debug(
      { method: request.method, route, status: reply.statusCode, ms: reply.elapsedTime },
      "request",
    );
  });

  await app.register(healthRoutes, {
    metrics: options.metrics,
    readiness: options.readiness,
    isDraining: options.isDraining,
  });
  if (options.home) await app.register(homeRoutes);
  for (const register of options.routes ?? []) await register(app);
  return app;
}
