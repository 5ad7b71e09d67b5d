/**
 * A fake Armis API on a real HTTP server: `POST /api/v1/access_token/` (form field `secret_key`) and
 * `GET /api/v1/search/` (aql, from, length; `Authorization: <access token>`), serving generated
 * devices page by page, refusing wrong secrets and unknown or expired tokens with 401, and taking
 * injected faults on either endpoint.
 */
import { randomBytes } from "node:crypto";
import { applyFault, FaultPlan, json, type Reply, startFakeServer } from "./fake-http.js";

export interface FakeArmisOptions {
  /** Devices with an id, IP and MAC. Default 25. */
  readonly devices?: number;
  /** Records with no id, IP or MAC (a sync must skip them), served after the devices. Default 0. */
  readonly anonymous?: number;
  readonly secret?: string;
  /** Second octet of the devices' 10.x.y.z addresses (keeps fakes in one tenant apart). Default 20. */
  readonly subnet?: number;
}

export interface FakeArmis {
  readonly url: string;
  readonly secret: string;
  /** Every record served, in order. */
  readonly records: readonly Record<string, unknown>[];
  readonly search: FaultPlan;
  readonly token: FaultPlan;
  /** Access tokens issued, and search requests answered (any status), with their parameters. */
  readonly stats: { tokens: number; searches: { from: number; length: number; aql: string | null }[] };
  /** Forgets every issued token: the next search with one gets 401, as after expiry. */
  expireTokens(): void;
  /** Every search answers 401, even with a fresh token (a revoked API user). */
  refuseAllTokens(refuse: boolean): void;
  close(): Promise<void>;
}

const RISK = ["Low", "Medium", "High", "Critical", "Unknown"];

function hex(n: number): string {
  return (n & 255).toString(16).padStart(2, "0");
}

export function armisRecord(i: number, subnet = 20): Record<string, unknown> {
  return {
    id: i,
    ipAddress: `10.${subnet}.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    macAddress: `00:1a:2b:${hex(subnet)}:${hex(i >> 8)}:${hex(i)}`,
    name: `armis-device-${i}`,
    type: "Switches",
    manufacturer: "Cisco",
    model: "C9300",
    operatingSystem: "IOS-XE",
    firstSeen: "2026-01-01T00:00:00+00:00",
    lastSeen: new Date(Date.UTC(2026, 0, 2, 0, 0, i % 60)).toISOString(),
    riskLevel: RISK[i % RISK.length],
    tags: ["armis", `site-${i % 3}`],
    boundaries: "Corporate",
  };
}

export async function startFakeArmis(opts: FakeArmisOptions = {}): Promise<FakeArmis> {
  const secret = opts.secret ?? `armis-secret-${randomBytes(8).toString("hex")}`;
  const records: Record<string, unknown>[] = [];
  for (let i = 1; i <= (opts.devices ?? 25); i += 1) records.push(armisRecord(i, opts.subnet));
  for (let i = 1; i <= (opts.anonymous ?? 0); i += 1) {
    records.push({ id: null, ipAddress: null, macAddress: null, name: `ghost-${i}` });
  }
  const tokens = new Set<string>();
  const search = new FaultPlan();
  const token = new FaultPlan();
  const stats: FakeArmis["stats"] = { tokens: 0, searches: [] };
  let refuse = false;

  const server = await startFakeServer(async (req, body, url, sleep): Promise<Reply> => {
    if (req.method === "POST" && url.pathname === "/api/v1/access_token/") {
      const fault = await applyFault(token.next(), sleep);
      if (fault !== undefined) return fault;
      if (new URLSearchParams(body).get("secret_key") !== secret) {
        return json(401, { message: "Invalid secret key", success: false });
      }
      const issued = randomBytes(16).toString("hex");
      tokens.add(issued);
      stats.tokens += 1;
      const expiration = new Date(Date.now() + 3_600_000).toISOString();
      return json(200, { data: { access_token: issued, expiration_utc: expiration }, success: true });
    }
    if (req.method === "GET" && url.pathname === "/api/v1/search/") {
      const from = Number(url.searchParams.get("from") ?? 0);
      const length = Math.min(Number(url.searchParams.get("length") ?? 100), 1000);
      stats.searches.push({ from, length, aql: url.searchParams.get("aql") });
      const fault = await applyFault(search.next(), sleep);
      if (fault !== undefined) return fault;
      if (refuse || !tokens.has(String(req.headers.authorization ?? ""))) {
        return json(401, { message: "Invalid access token", success: false });
      }
      const results = records.slice(from, from + length);
      const next = from + length < records.length ? from + length : null;
      return json(200, {
        data: {
          count: results.length,
          next,
          prev: from > 0 ? Math.max(0, from - length) : null,
          results,
          total: records.length,
        },
        success: true,
      });
    }
    return json(404, { message: "not found" });
  });

  return {
    url: server.url,
    secret,
    records,
    search,
    token,
    stats,
    expireTokens: () => tokens.clear(),
    refuseAllTokens: (r) => {
      refuse = r;
    },
    close: () => server.close(),
  };
}
