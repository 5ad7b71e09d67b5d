import type { FastifyPluginAsync } from "fastify";
import { type ReadinessCheck, runReadiness } from "../../platform/health.js";
import type { Metrics } from "../../platform/metrics/registry.js";

export interface HealthRoutesOptions {
  readonly metrics: Metrics;
  readonly readiness: readonly ReadinessCheck[];
  readonly isDraining: () => boolean;
  readonly checkTimeoutMs?: number;
}

/**
 * /healthz: the process is alive and serving (no dependency is asked; a slow database must not get a
 * healthy process restarted). /readyz: every dependency answers, so traffic may be sent here.
 * /metrics: Prometheus text.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, opts) => {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (request, reply) => {
    if (opts.isDraining()) {
      return reply.status(503).send({ status: "draining", checks: {} });
    }
    const report = await runReadiness(opts.readiness, opts.checkTimeoutMs ?? 2_000, (name, err) =>
      request.log.warn({ check: name, err }, "readiness check failed"),
    );
    for (const [name, result] of Object.entries(report.checks)) {
      opts.metrics.readiness.set({ check: name }, result === "ok" ? 1 : 0);
    }
    return reply
      .status(report.ready ? 200 : 503)
      .send({ status: report.ready ? "ready" : "not ready", ...report });
  });

  app.get("/metrics", async (_request, reply) => {
    const body = await opts.metrics.registry.metrics();
    return reply.type(opts.metrics.registry.contentType).send(body);
  });
};
