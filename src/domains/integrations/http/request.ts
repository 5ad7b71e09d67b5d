import { setTimeout as sleep } from "node:timers/promises";
import { SondeError } from "../../../lib/errors.js";
import { type HttpPolicy, retryAfterMs, retryDelayMs } from "./policy.js";

export interface SourceRequest {
  readonly method: "GET" | "POST";
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: URLSearchParams;
}

export interface JsonResponse {
  readonly status: number;
  /** The parsed JSON body of a 2xx answer; undefined for a passed-through status. */
  readonly body: unknown;
}

export interface RequestOptions {
  readonly policy: HttpPolicy;
  /** The caller's cancellation (the sync job's signal): stops at once, no further attempts. */
  readonly signal?: AbortSignal | undefined;
  /** Statuses handed back to the caller rather than failing (401: the client re-authenticates). */
  readonly passStatuses?: readonly number[];
}

/**
 * How a request is named in errors and logs: the source, the method and the path. Never the query,
 * the headers or the body, which carry tokens and secret keys.
 */
export function describeRequest(source: string, req: Pick<SourceRequest, "method" | "url">): string {
  return `${source}: ${req.method} ${req.url.pathname}`;
}

// A function, not an inline test: the caller's signal may abort while a request is in flight.
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function retryable(status: number): boolean {
  return status === 429 || status >= 500;
}

/** What went wrong with a request that got no answer; the error's own text may quote the URL, so no. */
function networkProblem(err: unknown, timedOut: boolean, policy: HttpPolicy): string {
  if (timedOut) return `timed out after ${policy.timeoutMs} ms`;
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === "string" ? `network error ${cause.code}` : "network error";
}

function cancelled(source: string, req: SourceRequest): SondeError {
  return new SondeError("SONDE_INTEGRATION_UNAVAILABLE", `${describeRequest(source, req)}: cancelled`, {
    meta: { source },
  });
}

/**
 * One JSON request with bounded retries: network errors, timeouts, 429 and 5xx are retried (after
 * `Retry-After` when the server says, else exponential backoff) up to `maxAttempts`; other statuses
 * fail at once. Redirects are not followed, so that credentials only ever go to the configured
 * endpoint. Errors name the source, the request and the HTTP status, never credentials.
 */
export async function requestJson(
  source: string,
  req: SourceRequest,
  opts: RequestOptions,
): Promise<JsonResponse> {
  const { policy, signal } = opts;
  const what = describeRequest(source, req);
  let last = "no attempt";
  let lastStatus: number | null = null;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt += 1) {
    if (aborted(signal)) throw cancelled(source, req);
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const attemptSignal = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    let retryAfter: number | undefined;
    try {
      const res = await fetch(req.url, {
        method: req.method,
        headers: { accept: "application/json", ...(req.headers ?? {}) },
        ...(req.body !== undefined ? { body: req.body } : {}),
        redirect: "manual",
        signal: attemptSignal,
      });
      // The whole body under the same deadline: a server that stalls mid-body is a timeout too.
      const text = await res.text();
      if (opts.passStatuses?.includes(res.status) === true) return { status: res.status, body: undefined };
      if (res.status >= 200 && res.status < 300) return { status: res.status, body: parseJson(what, text) };
      if (!retryable(res.status)) {
        throw new SondeError("SONDE_INTEGRATION_BAD_RESPONSE", `${what} answered HTTP ${res.status}`, {
          meta: { source, status: res.status },
        });
      }
      last = `HTTP ${res.status}`;
      lastStatus = res.status;
      retryAfter = retryAfterMs(res.headers.get("retry-after"));
    } catch (err) {
      if (err instanceof SondeError) throw err;
      if (aborted(signal)) throw cancelled(source, req);
      last = networkProblem(err, timeout.aborted, policy);
      lastStatus = null;
    }
    if (attempt < policy.maxAttempts) {
      try {
        await sleep(retryDelayMs(policy, attempt, retryAfter), undefined, signal ? { signal } : {});
      } catch {
        throw cancelled(source, req);
      }
    }
  }
  throw new SondeError(
    "SONDE_INTEGRATION_UNAVAILABLE",
    `${what}: gave up after ${policy.maxAttempts} attempts (last: ${last})`,
    { meta: { source, attempts: policy.maxAttempts, status: lastStatus } },
  );
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SondeError("SONDE_INTEGRATION_BAD_RESPONSE", `${what}: the answer is not JSON`);
  }
}

/** A parsed body that does not have the expected shape, named by the first offending path. */
export function unexpectedShape(what: string, path: readonly PropertyKey[], message: string): SondeError {
  const where = path.length > 0 ? ` at ${path.map(String).join(".")}` : "";
  return new SondeError("SONDE_INTEGRATION_BAD_RESPONSE", `${what}: unexpected answer${where}: ${message}`);
}
