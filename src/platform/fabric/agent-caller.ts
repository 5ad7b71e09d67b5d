import type { RegistryEntry, WorkItem } from "./contract.js";

/**
 * What an agent reports for one check: monitoring.AgentService's StatusResponse, reduced to what a
 * WorkResult carries. `message` is the agent's message parsed as JSON where it is JSON.
 */
export interface AgentOutcome {
  readonly available: boolean;
  readonly message: unknown;
  readonly response_time_ns: number;
  /** Why the check could not be run or reported (transport failure, agent error); null when it ran. */
  readonly error: string | null;
}

/**
 * How a poller hands work to an agent. The production implementation is the gRPC client of
 * `monitoring.AgentService` (built with the agent); the poller only knows this interface. An
 * implementation resolves with an outcome for failures of the check itself and of the transport
 * (error set), and stops when `signal` aborts.
 */
export interface AgentCaller {
  call(agent: RegistryEntry, work: WorkItem, signal: AbortSignal): Promise<AgentOutcome>;
}
