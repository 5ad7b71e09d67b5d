/**
 * A fake NetBox API on a real HTTP server: `GET /api/dcim/devices/` (limit, offset, any filter;
 * `Authorization: Token <token>`), serving generated devices page by page with NetBox's `count`,
 * `next` and `previous`, refusing wrong tokens with 401, and taking injected faults.
 */
import { randomBytes } from "node:crypto";
import { applyFault, FaultPlan, json, type Reply, startFakeServer } from "./fake-http.js";

export interface FakeNetboxOptions {
  /** Devices with an id and a primary IP. Default 25. */
  readonly devices?: number;
  /** Records with neither id nor primary IP (a sync must skip them), served after the devices. */
  readonly anonymous?: number;
  readonly token?: string;
  /** Second octet of the devices' 10.x.y.z addresses. Default 30. */
  readonly subnet?: number;
}

export interface FakeNetbox {
  readonly url: string;
  readonly token: string;
  readonly records: readonly Record<string, unknown>[];
  readonly devices: FaultPlan;
  /** Device-list requests answered (any status), with their query parameters. */
  readonly requests: URLSearchParams[];
  close(): Promise<void>;
}

export function netboxRecord(i: number, subnet = 30): Record<string, unknown> {
  const address = `10.${subnet}.${Math.floor(i / 250)}.${(i % 250) + 1}/24`;
  return {
    id: i,
    url: `http://netbox.internal/api/dcim/devices/${i}/`,
    name: `nb-device-${i}`,
    device_type: { id: 7, model: "DCS-7050SX3", manufacturer: { id: 3, name: "Arista" } },
    role: { id: 2, name: "Leaf" },
    site: { id: 1, name: "HQ" },
    platform: i % 2 === 0 ? null : { id: 4, name: "EOS" },
    status: { value: "active", label: "Active" },
    primary_ip4: { id: i, family: 4, address },
    primary_ip: { id: i, family: 4, address },
  };
}

export async function startFakeNetbox(opts: FakeNetboxOptions = {}): Promise<FakeNetbox> {
  const token = opts.token ?? `netbox-token-${randomBytes(8).toString("hex")}`;
  const records: Record<string, unknown>[] = [];
  for (let i = 1; i <= (opts.devices ?? 25); i += 1) records.push(netboxRecord(i, opts.subnet));
  for (let i = 1; i <= (opts.anonymous ?? 0); i += 1) {
    records.push({ id: null, name: `ghost-${i}`, primary_ip4: null, primary_ip: null });
  }
  const devices = new FaultPlan();
  const requests: URLSearchParams[] = [];

  const server = await startFakeServer(async (req, _body, url, sleep): Promise<Reply> => {
    if (req.method !== "GET" || url.pathname !== "/api/dcim/devices/")
      return json(404, { detail: "Not found." });
    requests.push(url.searchParams);
    const fault = await applyFault(devices.next(), sleep);
    if (fault !== undefined) return fault;
    if (req.headers.authorization !== `Token ${token}`) return json(401, { detail: "Invalid token" });
    const limit = Math.min(Number(url.searchParams.get("limit") ?? 50), 1000);
    const offset = Number(url.searchParams.get("offset") ?? 0);
    const results = records.slice(offset, offset + limit);
    // NetBox writes absolute URLs with the host it believes it has: here, one the client must not follow.
    const page = (o: number) => `http://netbox.internal/api/dcim/devices/?limit=${limit}&offset=${o}`;
    return json(200, {
      count: records.length,
      next: offset + limit < records.length ? page(offset + limit) : null,
      previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
      results,
    });
  });

  return { url: server.url, token, records, devices, requests, close: () => server.close() };
}
