/**
 * The Armis and NetBox clients against fake servers on real sockets (test/support/fake-*.ts):
 * pagination, retries after 429 (honouring Retry-After) and 5xx, timeouts, the bound on attempts,
 * refused credentials, and Armis's token renewal. Every error must name the source and the HTTP
 * status and never the secret.
 */
import { afterEach, describe, expect, it } from "vitest";
import { isSondeError, type SondeError } from "../../src/lib/errors.js";
import { ArmisClient } from "../../src/domains/integrations/armis/client.js";
import type { HttpPolicy } from "../../src/domains/integrations/http/policy.js";
import { NetboxClient } from "../../src/domains/integrations/netbox/client.js";
import { type FakeArmis, startFakeArmis } from "../support/fake-armis.js";
import { type FakeNetbox, startFakeNetbox } from "../support/fake-netbox.js";

const POLICY: HttpPolicy = { timeoutMs: 400, maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 2_000 };

async function collect<T>(pages: AsyncGenerator<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(page);
  return out;
}

/** The error `promise` rejects with, which must be a catalogue error. */
async function failure(promise: Promise<unknown>): Promise<SondeError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSondeError(err)) throw new Error(`expected a SondeError, got ${String(err)}`);
  return err;
}

describe("Armis client", () => {
  let fake: FakeArmis;
  afterEach(async () => fake?.close());
  const client = (over: Partial<{ secretKey: string; pageSize: number; aql: string }> = {}) =>
    new ArmisClient({ endpoint: fake.url, secretKey: fake.secret, pageSize: 10, policy: POLICY, ...over });

  it("pages through every device with one access token", async () => {
    fake = await startFakeArmis({ devices: 25 });
    const pages = await collect(client({ aql: "in:devices riskLevel:High" }).devices());
    expect(pages.map((p) => p.results.length)).toEqual([10, 10, 5]);
    expect(pages.every((p) => p.total === 25)).toBe(true);
    expect(pages.flatMap((p) => p.results)).toEqual(fake.records);
    expect(fake.stats.searches.map((s) => [s.from, s.length])).toEqual([
      [0, 10],
      [10, 10],
      [20, 10],
    ]);
    expect(fake.stats.searches[0]?.aql).toBe("in:devices riskLevel:High");
    expect(fake.stats.tokens).toBe(1);
  });

  it("searches every device (in:devices) when no AQL is given", async () => {
    fake = await startFakeArmis({ devices: 3 });
    await collect(client().devices());
    expect(fake.stats.searches.map((s) => s.aql)).toEqual(["in:devices"]);
  });

  it("waits as Retry-After says after a 429, then goes on", async () => {
    fake = await startFakeArmis({ devices: 15 });
    fake.search.inject({ status: 429, retryAfter: "1" });
    const started = Date.now();
    const pages = await collect(client().devices());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(pages.flatMap((p) => p.results)).toHaveLength(15);
    expect(fake.stats.searches).toHaveLength(3);
  });

  it("retries a 500 and a slow answer (timeout), then succeeds", async () => {
    fake = await startFakeArmis({ devices: 15 });
    fake.search.inject({ status: 500 }, { delayMs: 1_500 });
    const pages = await collect(client().devices());
    expect(pages.flatMap((p) => p.results)).toHaveLength(15);
    expect(fake.stats.searches).toHaveLength(4);
  });

  it("gives up after the bound with an error naming the source and status, not the secret", async () => {
    fake = await startFakeArmis({ devices: 5 });
    fake.search.failAlways({ status: 503 });
    const err = await failure(collect(client().devices()));
    expect(err.code).toBe("SONDE_INTEGRATION_UNAVAILABLE");
    expect(err.message).toBe("armis: GET /api/v1/search/: gave up after 3 attempts (last: HTTP 503)");
    expect(err.meta).toMatchObject({ source: "armis", status: 503, attempts: 3 });
    expect(fake.stats.searches).toHaveLength(3);
    expect(JSON.stringify({ m: err.message, meta: err.meta })).not.toContain(fake.secret);
  });

  it("gives up on a source that never answers in time", async () => {
    fake = await startFakeArmis({ devices: 5 });
    fake.token.failAlways({ delayMs: 2_000 });
    const err = await failure(collect(client().devices()));
    expect(err.code).toBe("SONDE_INTEGRATION_UNAVAILABLE");
    expect(err.message).toBe(
      "armis: POST /api/v1/access_token/: gave up after 3 attempts (last: timed out after 400 ms)",
    );
  });

  it("refuses a wrong secret key with a clear error that does not quote it", async () => {
    fake = await startFakeArmis({ devices: 5 });
    const wrong = "not-the-armis-secret-5f2b";
    const err = await failure(collect(client({ secretKey: wrong }).devices()));
    expect(err.code).toBe("SONDE_INTEGRATION_AUTH_FAILED");
    expect(err.message).toBe(
      "armis: POST /api/v1/access_token/ answered HTTP 401: the secret key was refused",
    );
    expect(err.message).not.toContain(wrong);
  });

  it("renews an expired access token once, mid-sync", async () => {
    fake = await startFakeArmis({ devices: 25 });
    const seen: number[] = [];
    for await (const page of client().devices()) {
      seen.push(page.results.length);
      if (seen.length === 1) fake.expireTokens();
    }
    expect(seen).toEqual([10, 10, 5]);
    expect(fake.stats.tokens).toBe(2);
  });

  it("fails when even a fresh token is refused", async () => {
    fake = await startFakeArmis({ devices: 5 });
    fake.refuseAllTokens(true);
    const err = await failure(collect(client().devices()));
    expect(err.code).toBe("SONDE_INTEGRATION_AUTH_FAILED");
    expect(err.message).toBe("armis: GET /api/v1/search/ answered HTTP 401 with a fresh access token");
    expect(fake.stats.tokens).toBe(2);
  });

  it("reports an unreachable endpoint as unavailable", async () => {
    fake = await startFakeArmis({ devices: 5 });
    const url = fake.url;
    await fake.close();
    const err = await failure(
      collect(
        new ArmisClient({ endpoint: url, secretKey: "s3cret-value", pageSize: 10, policy: POLICY }).devices(),
      ),
    );
    expect(err.code).toBe("SONDE_INTEGRATION_UNAVAILABLE");
    expect(err.message).toMatch(
      /^armis: POST \/api\/v1\/access_token\/: gave up after 3 attempts \(last: network error/,
    );
    expect(err.message).not.toContain("s3cret-value");
  });

  it("stops at once when the caller cancels", async () => {
    fake = await startFakeArmis({ devices: 5 });
    // Retry-After holds the client in its wait between attempts, where the cancel must reach it.
    fake.search.failAlways({ status: 503, retryAfter: "2" });
    const controller = new AbortController();
    const pending = failure(collect(client().devices(controller.signal)));
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const err = await pending;
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err.code).toBe("SONDE_INTEGRATION_UNAVAILABLE");
    expect(err.message).toBe("armis: GET /api/v1/search/: cancelled");
  });
});

describe("NetBox client", () => {
  let fake: FakeNetbox;
  afterEach(async () => fake?.close());
  const client = (over: Partial<{ token: string; query: string }> = {}) =>
    new NetboxClient({ endpoint: fake.url, token: fake.token, pageSize: 10, policy: POLICY, ...over });

  it("pages by offset, passing the filter but never its own paging", async () => {
    fake = await startFakeNetbox({ devices: 25 });
    const pages = await collect(client({ query: "site=hq&status=active&limit=5&offset=3" }).devices());
    expect(pages.map((p) => p.results.length)).toEqual([10, 10, 5]);
    expect(pages.every((p) => p.total === 25)).toBe(true);
    expect(pages.flatMap((p) => p.results)).toEqual(fake.records);
    expect(fake.requests.map((q) => [q.get("limit"), q.get("offset")])).toEqual([
      ["10", "0"],
      ["10", "10"],
      ["10", "20"],
    ]);
    expect(fake.requests.every((q) => q.get("site") === "hq" && q.get("status") === "active")).toBe(true);
    expect(fake.requests.every((q) => q.getAll("limit").length === 1)).toBe(true);
  });

  it("keeps a path prefix of the endpoint", async () => {
    fake = await startFakeNetbox({ devices: 3 });
    const err = await failure(
      collect(
        new NetboxClient({
          endpoint: `${fake.url}/netbox/`,
          token: fake.token,
          pageSize: 10,
          policy: POLICY,
        }).devices(),
      ),
    );
    // The fake serves no prefix: the 404 shows the prefixed path was asked for.
    expect(err.code).toBe("SONDE_INTEGRATION_BAD_RESPONSE");
    expect(err.message).toBe("netbox: GET /netbox/api/dcim/devices/ answered HTTP 404");
  });

  it("retries after a 429 with Retry-After and after a 500", async () => {
    fake = await startFakeNetbox({ devices: 15 });
    fake.devices.inject({ status: 429, retryAfter: "1" }, { status: 500 });
    const started = Date.now();
    const pages = await collect(client().devices());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(pages.flatMap((p) => p.results)).toHaveLength(15);
    expect(fake.requests).toHaveLength(4);
  });

  it("gives up after the bound, naming the source and status", async () => {
    fake = await startFakeNetbox({ devices: 5 });
    fake.devices.failAlways({ status: 502 });
    const err = await failure(collect(client().devices()));
    expect(err.code).toBe("SONDE_INTEGRATION_UNAVAILABLE");
    expect(err.message).toBe("netbox: GET /api/dcim/devices/: gave up after 3 attempts (last: HTTP 502)");
    expect(err.message).not.toContain(fake.token);
    expect(fake.requests).toHaveLength(3);
  });

  it("refuses a wrong token with a clear error that does not quote it", async () => {
    fake = await startFakeNetbox({ devices: 5 });
    const wrong = "0123456789abcdef-wrong-token";
    const err = await failure(collect(client({ token: wrong }).devices()));
    expect(err.code).toBe("SONDE_INTEGRATION_AUTH_FAILED");
    expect(err.message).toBe("netbox: GET /api/dcim/devices/ answered HTTP 401: the API token was refused");
    expect(err.message).not.toContain(wrong);
    expect(fake.requests).toHaveLength(1);
  });
});
