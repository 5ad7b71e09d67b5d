import { hostname } from "node:os";
import type { Logger } from "pino";
import type { ServerTlsOptions } from "../grpc/tls.js";
import { SONDE_VERSION } from "../lib/version.js";
import type { Bus } from "../platform/bus/types.js";
import { CAPABILITIES } from "../platform/fabric/contract.js";
import { registerComponent } from "../platform/fabric/registration.js";
import { startAgent } from "./agent.js";
import type { Runtime } from "./runtime.js";

/** The agent role inside a process: its gRPC service, and its registry entry when it has a partition. */
export interface AgentRoleOptions {
  /** `host:port` for monitoring.AgentService; port 0 picks a free one. */
  readonly listen: string;
  readonly id: string;
  readonly tls?: ServerTlsOptions;
  /** Plaintext gRPC; must be said explicitly. */
  readonly insecure?: boolean;
  /** The tenant partition it serves: given both, it registers so that the partition's pollers find it. */
  readonly tenant?: string;
  readonly partition?: string;
  /** Where pollers dial it (`host:port`); default the address it listens on. */
  readonly advertise?: string;
  readonly concurrency?: number;
  readonly maxBatchChecks?: number;
}

/** `0.0.0.0:50051` is where to listen, not where to dial: pollers get the host name instead. */
function dialable(address: string): string {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon);
  const wildcard = host === "0.0.0.0" || host === "::" || host === "[::]";
  return wildcard ? `${hostname()}:${address.slice(colon + 1)}` : address;
}

export async function startAgentRole(deps: {
  readonly bus: Bus;
  /** Use the registry bucket core created (a process without core: see RegistrationOptions.bind). */
  readonly bind: boolean;
  readonly runtime: Runtime;
  readonly logger: Logger;
  readonly node: string;
  readonly options: AgentRoleOptions;
}): Promise<{ readonly address: string }> {
  const { options, logger } = deps;
  const agent = await startAgent({
    listen: options.listen,
    agentId: options.id,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    insecure: options.insecure === true,
    logger,
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.maxBatchChecks === undefined ? {} : { maxBatchChecks: options.maxBatchChecks }),
  });
  deps.runtime.add({ name: "agent-grpc", stop: () => agent.stop() });
  if (options.tenant !== undefined && options.partition !== undefined) {
    const registration = await registerComponent(
      deps.bus,
      {
        kind: "agent",
        tenant: options.tenant,
        partition: options.partition,
        id: options.id,
        capabilities: [...CAPABILITIES],
        version: SONDE_VERSION,
        host: deps.node,
        address: options.advertise ?? dialable(agent.address),
      },
      { logger, bind: deps.bind },
    );
    // Added after the service: deregistered first on shutdown, so pollers stop picking it before it goes.
    deps.runtime.add({ name: "agent-registration", stop: () => registration.stop() });
    logger.info(
      { tenant: options.tenant, partition: options.partition, agent: options.id },
      "agent registered",
    );
  }
  return { address: agent.address };
}
