import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { SondeError } from "../lib/errors.js";
import type { ServerTlsOptions } from "../grpc/tls.js";
import { startAgent } from "../roles/agent.js";
import { exitOnSignals, Runtime } from "../roles/runtime.js";

/** `sonde agent --listen …`: the agent's gRPC service on its own, until a signal drains it. */
export interface AgentCliOptions {
  readonly listen: string;
  readonly agentId: string;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly insecure: boolean;
  readonly concurrency?: number;
  readonly maxBatch?: number;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new SondeError("SONDE_CONFIG_INVALID", `cannot read the ${what} at ${path}`, { cause: err });
  }
}

/** All three files, or none (then `--insecure` must be given). */
export function serverTlsFromFiles(
  options: Pick<AgentCliOptions, "tlsCa" | "tlsCert" | "tlsKey">,
): ServerTlsOptions | undefined {
  const given = [options.tlsCa, options.tlsCert, options.tlsKey].filter((v) => v !== undefined).length;
  if (given === 0) return undefined;
  if (options.tlsCa === undefined || options.tlsCert === undefined || options.tlsKey === undefined) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      "--tls-ca, --tls-cert and --tls-key go together: give all three",
    );
  }
  return {
    ca: readPem(options.tlsCa, "CA certificate"),
    cert: readPem(options.tlsCert, "certificate"),
    key: readPem(options.tlsKey, "private key"),
  };
}

export async function runAgent(
  options: AgentCliOptions,
  logger: Logger,
  shutdownTimeoutMs: number,
  /** TLS already loaded (`--tls-dir`), instead of the three files. */
  loaded?: ServerTlsOptions,
): Promise<void> {
  const tls = loaded ?? serverTlsFromFiles(options);
  if (tls !== undefined && options.insecure) {
    throw new SondeError("SONDE_CONFIG_INVALID", "--insecure and TLS files exclude each other");
  }
  const agent = await startAgent({
    listen: options.listen,
    agentId: options.agentId,
    ...(tls === undefined ? {} : { tls }),
    insecure: options.insecure,
    logger,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.maxBatch === undefined ? {} : { maxBatchChecks: options.maxBatch }),
  });
  const runtime = new Runtime(logger);
  runtime.add({ name: "agent-grpc", stop: () => agent.stop() });
  exitOnSignals(runtime, logger, shutdownTimeoutMs);
}
