import type { CheckContext } from "./context.js";

/**
 * Terminology:
 * - check: one thing an agent is asked to look at (a TCP port, an URL, a DNS name, a host to ping, a
 *   gRPC health endpoint), described by a `Check` value.
 * - probe: the function that runs one kind of check. Probes never throw for a failed check: an
 *   unreachable host is a result (`available: false` with an `error`), not an exception.
 * - response time: nanoseconds, as ServiceRadar's StatusResponse.response_time.
 */

export interface PortCheck {
  readonly kind: "port";
  readonly host: string;
  readonly port: number;
}

export interface IcmpCheck {
  readonly kind: "icmp";
  readonly host: string;
  /** Echo requests to send (1 by default). */
  readonly count: number;
}

export interface HttpCheck {
  readonly kind: "http";
  readonly url: string;
  readonly method: "GET" | "HEAD";
  /** When set, any other status makes the check unavailable; otherwise any status below 400 passes. */
  readonly expectStatus?: number;
  readonly bodyContains?: string;
  readonly bodyRegex?: string;
  /** Redirects are reported as they are unless this is set (then up to 5 are followed). */
  readonly followRedirects: boolean;
  /** PEM of extra CA certificates to trust for https. */
  readonly ca?: string;
  /** Accept any server certificate (expiry is still reported). */
  readonly insecureSkipVerify: boolean;
}

export const DNS_RECORD_TYPES = ["A", "AAAA", "CNAME", "MX", "TXT", "NS"] as const;
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

export interface DnsCheck {
  readonly kind: "dns";
  readonly name: string;
  readonly recordType: DnsRecordType;
  /** `ip` or `ip:port` (`[ipv6]:port`); the system resolvers when absent. */
  readonly server?: string;
  /** When set, one of the answers must equal it. */
  readonly expect?: string;
}

export interface GrpcHealthCheck {
  readonly kind: "grpc";
  /** `host:port`. */
  readonly address: string;
  /** The grpc.health.v1 service name; "" asks about the server as a whole. */
  readonly service: string;
  readonly tls: boolean;
  readonly ca?: string;
  readonly insecureSkipVerify: boolean;
}

export type Check = PortCheck | IcmpCheck | HttpCheck | DnsCheck | GrpcHealthCheck;
export type CheckKind = Check["kind"];

export interface ProbeResult {
  readonly available: boolean;
  readonly responseTimeNs: number;
  /** The JSON document reported as StatusResponse.message. */
  readonly message: Readonly<Record<string, unknown>>;
  readonly error?: string;
}

/** Runs one kind of check; honours the context's abort (the per-check timeout) and never rejects. */
export type Probe<C extends Check> = (check: C, context: CheckContext) => Promise<ProbeResult>;

export type ProbeSet = { readonly [K in CheckKind]?: Probe<Extract<Check, { kind: K }>> };

/** Nanoseconds since `start` (a `process.hrtime.bigint()` reading). */
export function elapsedNs(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
