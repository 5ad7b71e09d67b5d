import { collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * One Prometheus registry per process role set. Default process metrics (RSS, heap, event-loop lag,
 * GC) carry the `sonde_` prefix so that they sit beside Sonde's own series.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<"method" | "route" | "status">;
  readonly readiness: Gauge<"check">;
}

export function createMetrics(labels: { version: string; node: string; roles: readonly string[] }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "sonde_" });
  const buildInfo = new Gauge({
    name: "sonde_build_info",
    help: "Constant 1, labelled with the running version, node name and roles.",
    labelNames: ["version", "node", "roles"] as const,
    registers: [registry],
  });
  buildInfo.set({ version: labels.version, node: labels.node, roles: labels.roles.join(",") }, 1);
  const httpRequestDuration = new Histogram({
    name: "sonde_http_request_duration_seconds",
    help: "HTTP request duration by method, route pattern and status code.",
    labelNames: ["method", "route", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const readiness = new Gauge({
    name: "sonde_readiness_check",
    help: "1 when the named dependency passed its last readiness check, else 0.",
    labelNames: ["check"] as const,
    registers: [registry],
  });
  return { registry, httpRequestDuration, readiness };
}
