import { createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  type CheckContext,
  elapsedNs,
  errorText,
  type GrpcHealthCheck,
  type ProbeResult,
} from "../platform/probes/index.js";
import { Health, HealthCheckResponse_ServingStatus } from "./gen/grpc/health/v1/health_pb.js";

/**
 * gRPC health (grpc.health.v1.Health/Check): available when the server answers SERVING for the
 * service. It lives beside the generated code rather than in platform/probes, which cannot import
 * it; the agent adds it to the platform probes (./probes.ts). Each check opens its own HTTP/2
 * connection and closes it afterwards, like a TCP check.
 */
export async function grpcHealthProbe(check: GrpcHealthCheck, context: CheckContext): Promise<ProbeResult> {
  const start = process.hrtime.bigint();
  const base = { address: check.address, service: check.service };
  const baseUrl = `${check.tls ? "https" : "http"}://${check.address}`;
  const sessions = new Http2SessionManager(
    baseUrl,
    {},
    check.tls ? { ca: check.ca, rejectUnauthorized: !check.insecureSkipVerify } : {},
  );
  try {
    const client = createClient(Health, createGrpcTransport({ baseUrl, sessionManager: sessions }));
    const response = await client.check({ service: check.service }, { signal: context.signal });
    const status = HealthCheckResponse_ServingStatus[response.status] ?? String(response.status);
    const available = response.status === HealthCheckResponse_ServingStatus.SERVING;
    const error = available ? undefined : `status ${status}`;
    const responseTimeNs = elapsedNs(start);
    return {
      available,
      responseTimeNs,
      message: { ...base, status, response_time: responseTimeNs, available, ...(error ? { error } : {}) },
      ...(error === undefined ? {} : { error }),
    };
  } catch (err) {
    const error = context.aborted ? (context.reason ?? "aborted") : errorText(err);
    const responseTimeNs = elapsedNs(start);
    return {
      available: false,
      responseTimeNs,
      message: { ...base, response_time: responseTimeNs, available: false, error },
      error,
    };
  } finally {
    sessions.abort();
  }
}
