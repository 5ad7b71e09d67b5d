import { SondeError } from "../../../lib/errors.js";
import { endpointUrl } from "../http/endpoint.js";
import { parseAnswer } from "../http/parse.js";
import { DEFAULT_HTTP_POLICY, type HttpPolicy } from "../http/policy.js";
import { describeRequest, requestJson, type SourceRequest } from "../http/request.js";
import { netboxDevicesAnswer } from "./types.js";

export interface NetboxClientOptions {
  /** Base URL, e.g. https://netbox.example.com (a path prefix is kept). */
  readonly endpoint: string;
  /** The API token, sent as `Authorization: Token <token>`. */
  readonly token: string;
  /** A filter query string narrowing the devices, e.g. `site=hq&status=active`. */
  readonly query?: string | null;
  readonly pageSize: number;
  readonly policy?: HttpPolicy;
}

export interface NetboxPage {
  readonly results: readonly unknown[];
  readonly total: number;
}

const SOURCE = "netbox";
// Paging is Sonde's own: callers' filters may not override it.
const RESERVED = new Set(["limit", "offset"]);

/**
 * NetBox's device list over its REST API: `GET /api/dcim/devices/` with `limit` and `offset`. The
 * offset is counted here rather than by following the answer's `next` URL, which names whatever host
 * NetBox believes it has (behind a proxy, another one): the token only ever goes to the endpoint.
 */
export class NetboxClient {
  private readonly policy: HttpPolicy;

  constructor(private readonly opts: NetboxClientOptions) {
    this.policy = opts.policy ?? DEFAULT_HTTP_POLICY;
  }

  async *devices(signal?: AbortSignal): AsyncGenerator<NetboxPage> {
    let offset = 0;
    for (;;) {
      const req: SourceRequest = {
        method: "GET",
        url: this.pageUrl(offset),
        headers: { authorization: `Token ${this.opts.token}` },
      };
      const res = await requestJson(SOURCE, req, { policy: this.policy, signal, passStatuses: [401, 403] });
      if (res.status === 401 || res.status === 403) {
        throw new SondeError(
          "SONDE_INTEGRATION_AUTH_FAILED",
          `${describeRequest(SOURCE, req)} answered HTTP ${res.status}: the API token was refused`,
          { meta: { source: SOURCE, status: res.status } },
        );
      }
      const data = parseAnswer(describeRequest(SOURCE, req), netboxDevicesAnswer, res.body);
      yield { results: data.results, total: data.count };
      if (data.next === null || data.results.length === 0) return;
      offset += data.results.length;
    }
  }

  private pageUrl(offset: number): URL {
    const url = endpointUrl(this.opts.endpoint, "/api/dcim/devices/");
    for (const [key, value] of new URLSearchParams(this.opts.query ?? "")) {
      if (!RESERVED.has(key)) url.searchParams.append(key, value);
    }
    url.searchParams.set("limit", String(this.opts.pageSize));
    url.searchParams.set("offset", String(offset));
    return url;
  }
}
