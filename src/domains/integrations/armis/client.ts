import { SondeError } from "../../../lib/errors.js";
import { endpointUrl } from "../http/endpoint.js";
import { parseAnswer } from "../http/parse.js";
import { DEFAULT_HTTP_POLICY, type HttpPolicy } from "../http/policy.js";
import { describeRequest, requestJson, type SourceRequest } from "../http/request.js";
import { armisSearchAnswer, armisTokenAnswer } from "./types.js";

export interface ArmisClientOptions {
  /** Base URL, e.g. https://acme.armis.com. */
  readonly endpoint: string;
  /** The API secret key, exchanged for short-lived access tokens. */
  readonly secretKey: string;
  /** AQL narrowing the search; default every device (`in:devices`). */
  readonly aql?: string | null;
  readonly pageSize: number;
  readonly policy?: HttpPolicy;
}

export interface ArmisPage {
  /** Raw device records, read one by one by the mapping. */
  readonly results: readonly unknown[];
  readonly total: number | null;
}

const SOURCE = "armis";
const DEFAULT_AQL = "in:devices";
// Renew a token this long before Armis says it expires, so that a page is not refused mid-sync.
const EXPIRY_MARGIN_MS = 30_000;

interface AccessToken {
  readonly value: string;
  readonly expiresAt: number | undefined;
}

/**
 * Armis's device search over its REST API: the secret key buys an access token
 * (`POST /api/v1/access_token/`), which pages through `GET /api/v1/search/` (`from`, `length`, `next`).
 * A token refused mid-sync (expired, revoked) is renewed once per request; a second refusal fails.
 */
export class ArmisClient {
  private token: AccessToken | undefined;
  private readonly policy: HttpPolicy;

  constructor(private readonly opts: ArmisClientOptions) {
    this.policy = opts.policy ?? DEFAULT_HTTP_POLICY;
  }

  /** Every matching device, a page at a time, following `next` until Armis says there is none. */
  async *devices(signal?: AbortSignal): AsyncGenerator<ArmisPage> {
    let from = 0;
    for (;;) {
      const data = await this.search(from, signal);
      yield { results: data.results, total: data.total ?? null };
      if (data.next === null || data.results.length === 0) return;
      // A `next` that does not move forward would page for ever.
      if (data.next <= from) {
        throw new SondeError("SONDE_INTEGRATION_BAD_RESPONSE", `${SOURCE}: search paging does not advance`);
      }
      from = data.next;
    }
  }

  private async search(from: number, signal: AbortSignal | undefined) {
    const url = endpointUrl(this.opts.endpoint, "/api/v1/search/");
    url.searchParams.set("aql", this.opts.aql ?? DEFAULT_AQL);
    url.searchParams.set("from", String(from));
    url.searchParams.set("length", String(this.opts.pageSize));
    for (let renewed = false; ; renewed = true) {
      const token = await this.accessToken(signal);
      const req: SourceRequest = { method: "GET", url, headers: { authorization: token } };
      const res = await requestJson(SOURCE, req, { policy: this.policy, signal, passStatuses: [401] });
      if (res.status !== 401)
        return parseAnswer(describeRequest(SOURCE, req), armisSearchAnswer, res.body).data;
      this.token = undefined;
      if (renewed) {
        throw new SondeError(
          "SONDE_INTEGRATION_AUTH_FAILED",
          `${describeRequest(SOURCE, req)} answered HTTP 401 with a fresh access token`,
          { meta: { source: SOURCE, status: 401 } },
        );
      }
    }
  }

  private async accessToken(signal: AbortSignal | undefined): Promise<string> {
    const known = this.token;
    if (known !== undefined && (known.expiresAt === undefined || known.expiresAt > Date.now())) {
      return known.value;
    }
    const req: SourceRequest = {
      method: "POST",
      url: endpointUrl(this.opts.endpoint, "/api/v1/access_token/"),
      body: new URLSearchParams({ secret_key: this.opts.secretKey }),
    };
    const res = await requestJson(SOURCE, req, { policy: this.policy, signal, passStatuses: [401, 403] });
    if (res.status === 401 || res.status === 403) {
      throw new SondeError(
        "SONDE_INTEGRATION_AUTH_FAILED",
        `${describeRequest(SOURCE, req)} answered HTTP ${res.status}: the secret key was refused`,
        { meta: { source: SOURCE, status: res.status } },
      );
    }
    const data = parseAnswer(describeRequest(SOURCE, req), armisTokenAnswer, res.body).data;
    const expires = data.expiration_utc ? Date.parse(data.expiration_utc) : Number.NaN;
    this.token = {
      value: data.access_token,
      expiresAt: Number.isNaN(expires) ? undefined : expires - EXPIRY_MARGIN_MS,
    };
    return data.access_token;
  }
}
