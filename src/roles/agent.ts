import type { Logger } from "pino";
import { SondeError } from "../lib/errors.js";
import { createCheckRunner, type IcmpProbeOptions } from "../platform/probes/index.js";
import { agentServiceRoutes } from "../grpc/agent-service.js";
import { healthRoutes } from "../grpc/health-service.js";
import { agentProbes } from "../grpc/probes.js";
import { startGrpcServer } from "../grpc/server.js";
import type { ServerTlsOptions } from "../grpc/tls.js";

/**
 * The agent process's gRPC side: monitoring.AgentService and grpc.health.v1.Health on one listener,
 * running checks through one bounded runner. It opens no database and no bus connection.
 */
export interface AgentOptions {
  /** `host:port`; port 0 picks a free one. */
  readonly listen: string;
  readonly agentId: string;
  readonly tls?: ServerTlsOptions;
  /** Serve plaintext without TLS; required to be explicit. */
  readonly insecure?: boolean;
  /** Checks in flight at once (default 256). */
  readonly concurrency?: number;
  /** Checks in one GetResults/StreamResults batch (default 10,000). */
  readonly maxBatchChecks?: number;
  /** Timeout of a check that names none (default 5 s). */
  readonly checkTimeoutMs?: number;
  readonly logger: Logger;
  /** Which ICMP binaries to look for (default fping, then ping). */
  readonly icmp?: IcmpProbeOptions;
  /** StreamResults chunk size (at most and by default 1 MiB). */
  readonly chunkBytes?: number;
}

export interface RunningAgent {
  readonly address: string;
  stop(): Promise<void>;
}

export const AGENT_DEFAULTS = { concurrency: 256, maxBatchChecks: 10_000, checkTimeoutMs: 5_000 } as const;

/** Batch entries are at most ~4.3 kB of JSON each; requests are bounded accordingly. */
const BYTES_PER_BATCH_ENTRY = 4_400;

export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  if (options.agentId === "") throw new SondeError("SONDE_CONFIG_INVALID", "the agent needs an id");
  const concurrency = options.concurrency ?? AGENT_DEFAULTS.concurrency;
  const maxBatchChecks = options.maxBatchChecks ?? AGENT_DEFAULTS.maxBatchChecks;
  const runner = createCheckRunner({
    probes: agentProbes(options.icmp === undefined ? {} : { icmp: options.icmp }),
    concurrency,
    defaultTimeoutMs: options.checkTimeoutMs ?? AGENT_DEFAULTS.checkTimeoutMs,
  });
  let draining = false;
  const server = await startGrpcServer({
    listen: options.listen,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    insecure: options.insecure === true,
    logger: options.logger,
    // Room for the largest batch the agent accepts, so an oversized one is refused by count, clearly.
    readMaxBytes: Math.max(4 * 1024 * 1024, (maxBatchChecks + 1) * BYTES_PER_BATCH_ENTRY),
    routes: [
      agentServiceRoutes({
        agentId: options.agentId,
        runner,
        maxBatchChecks,
        checkTimeoutMs: options.checkTimeoutMs ?? AGENT_DEFAULTS.checkTimeoutMs,
        ...(options.chunkBytes === undefined ? {} : { chunkBytes: options.chunkBytes }),
      }),
      healthRoutes(["monitoring.AgentService"], () => draining),
    ],
  });
  options.logger.info(
    { address: server.address, agentId: options.agentId, tls: server.tls, concurrency, maxBatchChecks },
    "agent gRPC service listening",
  );
  return {
    address: server.address,
    async stop() {
      draining = true;
      await server.stop();
      options.logger.info({ agentId: options.agentId }, "agent gRPC service stopped");
    },
  };
}
