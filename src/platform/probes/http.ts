import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import type { TLSSocket } from "node:tls";
import type { CheckContext } from "./context.js";
import { elapsedNs, errorText, type HttpCheck, type ProbeResult } from "./types.js";

/** How much of a body is read for `bodyContains`/`bodyRegex`; the rest is not looked at. */
const BODY_LIMIT_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;
const DAY_MS = 86_400_000;

interface Response {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string | undefined;
  readonly certDaysLeft: number | undefined;
}

/**
 * HTTP(S): available when the status is the expected one (any status below 400 when none is
 * expected) and the body matches. Redirects are not followed unless asked, so a 301 to a login page
 * is reported as a 301. For https the server certificate's days to expiry are reported too.
 */
export async function httpProbe(check: HttpCheck, context: CheckContext): Promise<ProbeResult> {
  const start = process.hrtime.bigint();
  const base = { url: check.url };
  const fail = (error: string, extra: Record<string, unknown> = {}): ProbeResult => {
    const responseTimeNs = elapsedNs(start);
    return {
      available: false,
      responseTimeNs,
      message: { ...base, ...extra, response_time: responseTimeNs, available: false, error },
      error,
    };
  };
  let url = check.url;
  let response: Response;
  try {
    for (let hops = 0; ; hops++) {
      response = await fetchOnce(url, check, context.signal);
      const redirect = response.status >= 300 && response.status < 400 && response.location !== undefined;
      if (!redirect || !check.followRedirects) break;
      if (hops >= MAX_REDIRECTS) return fail(`more than ${MAX_REDIRECTS} redirects`);
      url = new URL(response.location ?? "", url).toString();
    }
  } catch (err) {
    return fail(context.aborted ? (context.reason ?? "aborted") : errorText(err));
  }
  const extra = {
    status: response.status,
    ...(url === check.url ? {} : { final_url: url }),
    ...(response.certDaysLeft === undefined ? {} : { cert_days_left: response.certDaysLeft }),
  };
  const statusOk =
    check.expectStatus === undefined ? response.status < 400 : response.status === check.expectStatus;
  if (!statusOk) {
    const wanted = check.expectStatus === undefined ? "a status below 400" : String(check.expectStatus);
    return fail(`status ${response.status}, expected ${wanted}`, extra);
  }
  const body = response.body ?? "";
  if (check.bodyContains !== undefined && !body.includes(check.bodyContains)) {
    return fail("body does not contain the expected text", extra);
  }
  if (check.bodyRegex !== undefined && !new RegExp(check.bodyRegex).test(body)) {
    return fail("body does not match the expected pattern", extra);
  }
  const responseTimeNs = elapsedNs(start);
  return {
    available: true,
    responseTimeNs,
    message: { ...base, ...extra, response_time: responseTimeNs, available: true },
  };
}

function fetchOnce(url: string, check: HttpCheck, signal: AbortSignal): Promise<Response> {
  const parsed = new URL(url);
  const https = parsed.protocol === "https:";
  if (!https && parsed.protocol !== "http:") {
    return Promise.reject(new Error(`unsupported URL scheme ${parsed.protocol}`));
  }
  const wantBody = check.bodyContains !== undefined || check.bodyRegex !== undefined;
  return new Promise<Response>((resolve, reject) => {
    const options = {
      method: check.method,
      signal,
      agent: false as const,
      headers: { "user-agent": "sonde-agent", connection: "close" },
      ...(https
        ? {
            ca: check.ca,
            rejectUnauthorized: !check.insecureSkipVerify,
            ...(isIP(parsed.hostname) === 0 ? { servername: parsed.hostname } : {}),
          }
        : {}),
    };
    const req = (https ? httpsRequest : httpRequest)(parsed, options, (res: IncomingMessage) => {
      const certDaysLeft = https ? daysLeft(res.socket as TLSSocket) : undefined;
      const done = (body: string | undefined) =>
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, body, certDaysLeft });
      if (!wantBody) {
        res.destroy();
        done(undefined);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size >= BODY_LIMIT_BYTES) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size >= BODY_LIMIT_BYTES) {
          res.destroy();
          done(Buffer.concat(chunks).subarray(0, BODY_LIMIT_BYTES).toString("utf8"));
        }
      });
      res.on("end", () => done(Buffer.concat(chunks).toString("utf8")));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

function daysLeft(socket: TLSSocket): number | undefined {
  const cert = socket.getPeerCertificate();
  if (cert.valid_to === undefined) return undefined;
  return Math.floor((Date.parse(cert.valid_to) - Date.now()) / DAY_MS);
}
