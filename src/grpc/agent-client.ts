import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { SondeError } from "../lib/errors.js";
import { type BatchCheck, type BatchResult, batchResultSchema } from "./batch.js";
import { AgentService, type ResultsResponse, type StatusResponse } from "./gen/monitoring/monitoring_pb.js";
import type { ClientTlsOptions } from "./tls.js";

/**
 * What pollers use to call an agent's monitoring.AgentService: one HTTP/2 connection per client
 * (opened on first use, kept alive with PINGs, reopened when it drops), a deadline on every call,
 * and StreamResults reassembled into the result array. Failures surface as ConnectErrors (their
 * `code` is the gRPC status).
 */
export interface AgentClientOptions {
  /** `host:port` of the agent. */
  readonly address: string;
  readonly tls?: ClientTlsOptions;
  /** Plaintext; must be said explicitly. */
  readonly insecure?: boolean;
  /** Deadline of a call that names none (default 30 s). */
  readonly timeoutMs?: number;
}

export interface StatusQuery {
  readonly serviceType: string;
  readonly details: string;
  readonly serviceName?: string;
  readonly port?: number;
  readonly pollerId?: string;
  readonly agentId?: string;
}

export interface StatusAnswer {
  readonly available: boolean;
  /** StatusResponse.message, parsed. */
  readonly message: unknown;
  readonly responseTimeNs: number;
  readonly raw: StatusResponse;
}

export interface BatchQuery {
  readonly checks: readonly BatchCheck[];
  readonly serviceName?: string;
  readonly pollerId?: string;
  readonly agentId?: string;
}

export interface BatchAnswer {
  readonly results: BatchResult[];
  readonly currentSequence: string;
  readonly timestamp: number;
  /** ResultsChunks received (1 for GetResults). */
  readonly chunks: number;
  readonly raw?: ResultsResponse;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface AgentClient {
  getStatus(query: StatusQuery, call?: CallOptions): Promise<StatusAnswer>;
  getResults(query: BatchQuery, call?: CallOptions): Promise<BatchAnswer>;
  streamResults(query: BatchQuery, call?: CallOptions): Promise<BatchAnswer>;
  close(): void;
}

const decoder = new TextDecoder();

export function createAgentClient(options: AgentClientOptions): AgentClient {
  const tls = options.tls;
  if (tls === undefined && options.insecure !== true) {
    throw new SondeError(
      "SONDE_CONFIG_INVALID",
      "the agent client needs TLS material (CA, certificate, key) or insecure: true",
    );
  }
  const baseUrl = `${tls === undefined ? "http" : "https"}://${options.address}`;
  const sessions = new Http2SessionManager(
    baseUrl,
    { pingIntervalMs: 30_000, pingTimeoutMs: 10_000 },
    tls === undefined
      ? {}
      : {
          ca: tls.ca,
          cert: tls.cert,
          key: tls.key,
          checkServerIdentity: (host: string, peer: PeerCertificate) => {
            if (tls.checkServer === undefined) return checkServerIdentity(host, peer);
            try {
              tls.checkServer(peer);
              return undefined;
            } catch (err) {
              return err instanceof Error ? err : new Error(String(err));
            }
          },
        },
  );
  const client: Client<typeof AgentService> = createClient(
    AgentService,
    createGrpcTransport({ baseUrl, sessionManager: sessions, defaultTimeoutMs: options.timeoutMs ?? 30_000 }),
  );
  const callOptions = (call: CallOptions | undefined) => ({
    ...(call?.timeoutMs === undefined ? {} : { timeoutMs: call.timeoutMs }),
    ...(call?.signal === undefined ? {} : { signal: call.signal }),
  });
  const resultsRequest = (query: BatchQuery) => ({
    serviceName: query.serviceName ?? "",
    serviceType: "batch",
    agentId: query.agentId ?? "",
    pollerId: query.pollerId ?? "",
    details: JSON.stringify({ checks: query.checks }),
  });

  return {
    async getStatus(query, call) {
      const raw = await client.getStatus(
        {
          serviceName: query.serviceName ?? "",
          serviceType: query.serviceType,
          details: query.details,
          port: query.port ?? 0,
          pollerId: query.pollerId ?? "",
          agentId: query.agentId ?? "",
        },
        callOptions(call),
      );
      return {
        available: raw.available,
        message: raw.message.length === 0 ? null : JSON.parse(decoder.decode(raw.message)),
        responseTimeNs: Number(raw.responseTime),
        raw,
      };
    },

    async getResults(query, call) {
      const raw = await client.getResults(resultsRequest(query), callOptions(call));
      return {
        results: parseResults(raw.data),
        currentSequence: raw.currentSequence,
        timestamp: Number(raw.timestamp),
        chunks: 1,
        raw,
      };
    },

    async streamResults(query, call) {
      const parts: Uint8Array[] = [];
      let total: number | undefined;
      let sequence = "";
      let timestamp = 0;
      let final = false;
      for await (const chunk of client.streamResults(resultsRequest(query), callOptions(call))) {
        if (final) throw new SondeError("SONDE_AGENT_BAD_RESPONSE", "agent sent a chunk after the final one");
        if (chunk.chunkIndex !== parts.length || (total !== undefined && chunk.totalChunks !== total)) {
          throw new SondeError(
            "SONDE_AGENT_BAD_RESPONSE",
            `agent sent chunk ${chunk.chunkIndex} of ${chunk.totalChunks} where ${parts.length} of ${total ?? "?"} was due`,
          );
        }
        total = chunk.totalChunks;
        sequence = chunk.currentSequence;
        timestamp = Number(chunk.timestamp);
        parts.push(chunk.data);
        final = chunk.isFinal;
      }
      if (!final || parts.length !== total) {
        throw new SondeError(
          "SONDE_AGENT_BAD_RESPONSE",
          `result stream ended after ${parts.length} of ${total ?? "?"} chunks`,
        );
      }
      return {
        results: parseResults(Buffer.concat(parts)),
        currentSequence: sequence,
        timestamp,
        chunks: parts.length,
      };
    },

    close() {
      sessions.abort();
    },
  };
}

function parseResults(data: Uint8Array): BatchResult[] {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    throw new SondeError("SONDE_AGENT_BAD_RESPONSE", "agent results are not valid JSON");
  }
  const parsed = batchResultSchema.array().safeParse(value);
  if (!parsed.success)
    throw new SondeError("SONDE_AGENT_BAD_RESPONSE", "agent results do not have the expected shape");
  return parsed.data;
}
