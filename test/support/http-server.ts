import type { FastifyInstance } from "fastify";
import { buildHttpServer, type HttpServerOptions } from "../../src/api/http/server.js";
import { createMetrics } from "../../src/platform/metrics/registry.js";
import { silentLogger } from "./databases.js";

/** The HTTP shell as tests build it: silent, no dependencies to ask, not draining; override as needed. */
export function testHttpServer(overrides: Partial<HttpServerOptions> = {}): Promise<FastifyInstance> {
  return buildHttpServer({
    logger: silentLogger,
    metrics: createMetrics({ version: "test", node: "n", roles: ["core"] }),
    readiness: [],
    bodyLimitBytes: 1 << 20,
    home: false,
    isDraining: () => false,
    ...overrides,
  });
}
