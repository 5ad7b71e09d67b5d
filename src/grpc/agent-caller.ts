import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { AgentCaller, AgentOutcome } from "../platform/fabric/agent-caller.js";
import type { RegistryEntry, WorkItem } from "../platform/fabric/contract.js";
import { AgentBatcher } from "./agent-batcher.js";
import { type AgentClient, createAgentClient } from "./agent-client.js";
import type { ClientTlsOptions } from "./tls.js";

export interface GrpcAgentCallerOptions {
  /** The calling poller, sent as StatusRequest.poller_id. */
  readonly pollerId: string;
  /** mTLS material of the poller; the agent's certificate is checked by `tls.checkServer`. */
  readonly tls?: ClientTlsOptions;
  /** Plaintext; must be said explicitly (loopback tests, `--insecure`). */
  readonly insecure?: boolean;
  /** Added to a work item's timeout for the call's deadline: the agent's own timeout fires first. */
  readonly graceMs?: number;
  /**
   * Coalesce concurrent checks to one agent into GetResults batches (agent-batcher.ts; default
   * true). Sonde's agents take such batches; turn it off for agents that serve only GetStatus.
   */
  readonly coalesce?: boolean;
  readonly logger: Logger;
}

/** An agent that answers nothing usable still produces an outcome: unavailable, with the reason. */
function failed(agent: RegistryEntry, reason: string): AgentOutcome {
  return { available: false, message: null, response_time_ns: 0, error: `agent ${agent.id}: ${reason}` };
}

/**
 * The pollers' AgentCaller over monitoring.AgentService (GetStatus), the contract ServiceRadar's Go
 * agents serve too. One client (one HTTP/2 connection) per agent address, kept while the agent is
 * in use; close() drops them all.
 */
export class GrpcAgentCaller implements AgentCaller {
  readonly #clients = new Map<string, AgentClient>();
  readonly #batchers = new Map<string, AgentBatcher>();

  constructor(private readonly opts: GrpcAgentCallerOptions) {}

  async call(agent: RegistryEntry, work: WorkItem, signal: AbortSignal): Promise<AgentOutcome> {
    if (agent.address === undefined) return failed(agent, "registered without an address");
    const client = this.#client(agent.address);
    if (this.opts.coalesce !== false) {
      try {
        return await this.#batcher(agent.address, agent.id, client).run(work);
      } catch (err) {
        // One bad check refuses the whole batch (INVALID_ARGUMENT): asked alone, it gets its own answer.
        if (!(err instanceof ConnectError && err.code === Code.InvalidArgument)) {
          return failed(
            agent,
            err instanceof ConnectError ? `${codeName(err)}: ${err.rawMessage}` : String(err),
          );
        }
      }
    }
    try {
      const answer = await client.getStatus(
        {
          serviceName: work.service_name,
          serviceType: work.service_type,
          details: work.details,
          port: work.port,
          pollerId: this.opts.pollerId,
          agentId: agent.id,
        },
        { timeoutMs: work.timeout_ms + (this.opts.graceMs ?? 1_000), signal },
      );
      return {
        available: answer.available,
        message: answer.message,
        response_time_ns: answer.responseTimeNs,
        error: null,
      };
    } catch (err) {
      if (err instanceof ConnectError) return failed(agent, `${codeName(err)}: ${err.rawMessage}`);
      // A ServiceRadar agent may answer a message that is not JSON; anything else is a transport fault.
      if (err instanceof SyntaxError) return failed(agent, "answered a status message that is not JSON");
      this.opts.logger.warn({ err, agent: agent.id }, "agent call failed");
      return failed(agent, err instanceof Error ? err.message : String(err));
    }
  }

  #batcher(address: string, agentId: string, client: AgentClient): AgentBatcher {
    let batcher = this.#batchers.get(address);
    if (batcher === undefined) {
      batcher = new AgentBatcher(
        client,
        { pollerId: this.opts.pollerId, agentId },
        this.opts.graceMs ?? 1_000,
      );
      this.#batchers.set(address, batcher);
    }
    return batcher;
  }

  #client(address: string): AgentClient {
    let client = this.#clients.get(address);
    if (client === undefined) {
      client = createAgentClient({
        address,
        ...(this.opts.tls === undefined ? {} : { tls: this.opts.tls }),
        ...(this.opts.insecure === true ? { insecure: true } : {}),
      });
      this.#clients.set(address, client);
    }
    return client;
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
    this.#batchers.clear();
  }
}

/** `DeadlineExceeded`, `Unavailable`…: the gRPC status by name, for the result's error text. */
function codeName(err: ConnectError): string {
  return Code[err.code] ?? `code ${err.code}`;
}
