import type { Logger } from "pino";
import { GrpcAgentCaller } from "../grpc/agent-caller.js";
import type { ClientTlsOptions } from "../grpc/tls.js";
import { SondeError } from "../lib/errors.js";
import { SONDE_VERSION } from "../lib/version.js";
import type { Bus } from "../platform/bus/types.js";
import type { AgentCaller } from "../platform/fabric/agent-caller.js";
import { CAPABILITIES } from "../platform/fabric/contract.js";
import { startPoller } from "../platform/fabric/poller.js";
import type { Runtime } from "./runtime.js";

/** What `sonde poller --tenant … --partition …` (or `sonde start` with the same flags) asks for. */
export interface PollerRoleOptions {
  readonly tenant: string;
  readonly partition: string;
  /** Defaults to the node name, made a valid component id. */
  readonly id?: string;
  /** Defaults to every capability the contract knows. */
  readonly capabilities?: readonly string[];
  /** mTLS towards agents (`--tls-dir`: the poller's certificate from `sonde certs issue`). */
  readonly tls?: ClientTlsOptions;
  /** Plaintext gRPC towards agents; must be said explicitly (`--insecure`). */
  readonly insecure?: boolean;
}

/** A host name such as `poller-1.example.net` as a component id (`[A-Za-z0-9_-]`, at most 128). */
export function componentIdFromNode(node: string): string {
  const id = node.replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 128);
  return id === "" ? "poller" : id;
}

/**
 * Starts the poller role: registration, the dispatch queue group of its tenant partition, and the
 * hand-over to agents through `agentCaller`. It opens no database. Without a tenant and partition the
 * role takes no work (the process still serves health and metrics, as before the fabric existed).
 */
export async function startPollerRole(deps: {
  readonly bus: Bus;
  /** Use the buckets and stream core created (a process without core: see PollerOptions.bind). */
  readonly bind: boolean;
  readonly runtime: Runtime;
  readonly logger: Logger;
  readonly node: string;
  /** The process's whole shutdown budget; the poller drains for part of it and deregisters after. */
  readonly shutdownTimeoutMs: number;
  readonly options: PollerRoleOptions | undefined;
  readonly agentCaller: AgentCaller | undefined;
}): Promise<void> {
  const { options, logger } = deps;
  if (options === undefined) {
    logger.info("poller role: no --tenant/--partition given, taking no work");
    return;
  }
  const id = options.id ?? componentIdFromNode(deps.node);
  let agentCaller = deps.agentCaller;
  if (agentCaller === undefined) {
    if (options.tls === undefined && options.insecure !== true) {
      throw new SondeError(
        "SONDE_CONFIG_INVALID",
        "the poller calls agents over mutual TLS: give --tls-dir (a directory from `sonde certs issue --component poller`) or, on a trusted network only, --insecure",
      );
    }
    if (options.tls === undefined) logger.warn("poller: calling agents over plaintext gRPC (--insecure)");
    const grpc = new GrpcAgentCaller({
      pollerId: id,
      ...(options.tls === undefined ? { insecure: true } : { tls: options.tls }),
      logger,
    });
    deps.runtime.add({ name: "agent-clients", stop: async () => grpc.close() });
    agentCaller = grpc;
  }
  const poller = await startPoller(deps.bus, {
    tenant: options.tenant,
    partition: options.partition,
    id,
    capabilities: options.capabilities ?? [...CAPABILITIES],
    version: SONDE_VERSION,
    host: deps.node,
    agentCaller,
    logger,
    drainTimeoutMs: Math.floor(deps.shutdownTimeoutMs * 0.6),
    bind: deps.bind,
  });
  deps.runtime.add({ name: "poller", stop: () => poller.stop() });
}
