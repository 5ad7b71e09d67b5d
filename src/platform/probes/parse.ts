import { z } from "zod";
import { SondeError } from "../../lib/errors.js";
import { type Check, DNS_RECORD_TYPES } from "./types.js";

/**
 * Turns ServiceRadar-style `service_type` + `details` (+ `port`) into a typed `Check`, or throws
 * SONDE_VALIDATION_FAILED saying what is wrong. `details` is a plain string for the simple forms
 * (`host:port`, an IP, an URL, a DNS name) and a JSON object for the rest (docs/agent.md).
 */
export interface CheckRequest {
  readonly serviceType: string;
  readonly details: string;
  readonly port?: number;
}

const MAX_DETAILS = 4096;
// No leading "-": the host becomes an argument of fping/ping, and must never read as an option.
const hostSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9_.:%][A-Za-z0-9_.:%-]*$/, "not a host name or IP address");

const httpDetails = z.strictObject({
  url: z.string().min(1).max(2048),
  method: z.enum(["GET", "HEAD"]).default("GET"),
  expect_status: z.number().int().min(100).max(599).optional(),
  body_contains: z.string().max(1024).optional(),
  body_regex: z.string().max(1024).optional(),
  follow_redirects: z.boolean().default(false),
  ca: z.string().max(65_536).optional(),
  insecure_skip_verify: z.boolean().default(false),
});
const dnsDetails = z.strictObject({
  name: z.string().min(1).max(253),
  type: z.enum(DNS_RECORD_TYPES).default("A"),
  server: z.string().min(1).max(300).optional(),
  expect: z.string().max(1024).optional(),
});
const grpcDetails = z.strictObject({
  address: z.string().min(1).max(300),
  service: z.string().max(255).default(""),
  tls: z.boolean().default(false),
  ca: z.string().max(65_536).optional(),
  insecure_skip_verify: z.boolean().default(false),
});
const icmpDetails = z.strictObject({
  host: hostSchema,
  count: z.number().int().min(1).max(10).default(1),
});

function invalid(serviceType: string, why: string): SondeError {
  return new SondeError("SONDE_VALIDATION_FAILED", `invalid ${serviceType} check: ${why}`, {
    meta: { service_type: serviceType },
  });
}

/** Splits `host:port` or `[v6]:port`. */
export function splitHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? "", port };
}

function json<T>(serviceType: string, details: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(details);
  } catch {
    throw invalid(serviceType, "details is not valid JSON");
  }
  return validate(serviceType, value, schema);
}

function validate<T>(serviceType: string, value: unknown, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw invalid(serviceType, `${where}${issue?.message ?? "invalid details"}`);
  }
  return parsed.data;
}

const isJson = (details: string) => details.trimStart().startsWith("{");

export function parseCheck(request: CheckRequest): Check {
  const { serviceType, details } = request;
  if (details.length > MAX_DETAILS)
    throw invalid(serviceType, `details longer than ${MAX_DETAILS} characters`);
  switch (serviceType) {
    case "port":
    case "tcp": {
      const hostPort =
        splitHostPort(details) ??
        (request.port !== undefined &&
        request.port > 0 &&
        request.port <= 65535 &&
        hostSchema.safeParse(details).success
          ? { host: details, port: request.port }
          : undefined);
      if (hostPort === undefined) throw invalid(serviceType, 'details must be "host:port"');
      return { kind: "port", ...hostPort };
    }
    case "icmp":
    case "ping": {
      const d = isJson(details)
        ? json(serviceType, details, icmpDetails)
        : { host: details.trim(), count: 1 };
      if (!hostSchema.safeParse(d.host).success)
        throw invalid(serviceType, "details must be a host name or IP address");
      return { kind: "icmp", host: d.host, count: d.count };
    }
    case "http":
    case "https": {
      const d = isJson(details)
        ? json(serviceType, details, httpDetails)
        : validate(serviceType, { url: details.trim() }, httpDetails);
      let url: URL;
      try {
        url = new URL(d.url);
      } catch {
        throw invalid(serviceType, "url is not a valid URL");
      }
      if (url.protocol !== "http:" && url.protocol !== "https:")
        throw invalid(serviceType, "url must be http or https");
      if (d.body_regex !== undefined) {
        try {
          new RegExp(d.body_regex);
        } catch {
          throw invalid(serviceType, "body_regex is not a valid regular expression");
        }
      }
      return {
        kind: "http",
        url: url.toString(),
        method: d.method,
        followRedirects: d.follow_redirects,
        insecureSkipVerify: d.insecure_skip_verify,
        ...(d.expect_status === undefined ? {} : { expectStatus: d.expect_status }),
        ...(d.body_contains === undefined ? {} : { bodyContains: d.body_contains }),
        ...(d.body_regex === undefined ? {} : { bodyRegex: d.body_regex }),
        ...(d.ca === undefined ? {} : { ca: d.ca }),
      };
    }
    case "dns": {
      const d = isJson(details)
        ? json(serviceType, details, dnsDetails)
        : validate(serviceType, { name: details.trim() }, dnsDetails);
      if (
        d.server !== undefined &&
        splitHostPort(d.server) === undefined &&
        !hostSchema.safeParse(d.server).success
      ) {
        throw invalid(serviceType, 'server must be "ip" or "ip:port"');
      }
      return {
        kind: "dns",
        name: d.name,
        recordType: d.type,
        ...(d.server === undefined ? {} : { server: d.server }),
        ...(d.expect === undefined ? {} : { expect: d.expect }),
      };
    }
    case "grpc": {
      const d = isJson(details)
        ? json(serviceType, details, grpcDetails)
        : validate(serviceType, { address: details.trim() }, grpcDetails);
      if (splitHostPort(d.address) === undefined) throw invalid(serviceType, 'address must be "host:port"');
      return {
        kind: "grpc",
        address: d.address,
        service: d.service,
        tls: d.tls,
        insecureSkipVerify: d.insecure_skip_verify,
        ...(d.ca === undefined ? {} : { ca: d.ca }),
      };
    }
    default:
      throw invalid(
        serviceType || "(empty)",
        'unknown service_type; use "port", "icmp", "http", "dns" or "grpc"',
      );
  }
}
