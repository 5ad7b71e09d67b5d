import { describe, expect, it } from "vitest";
import { systemActor } from "../../src/kernel/actor.js";
import type { ActionContext } from "../../src/kernel/pipeline/authorize.js";
import { emptyResult, type IngestResult } from "../../src/domains/inventory/dire/types.js";
import { SyncBatches, type UpdateIngest } from "../../src/domains/inventory/sync-batches.js";

/** Accepts objects with `ok: true` (as created), rejects anything else; records every call. */
class FakeIngest implements UpdateIngest {
  readonly calls: unknown[][] = [];
  async ingest(_ctx: ActionContext, raw: readonly unknown[]): Promise<IngestResult> {
    this.calls.push([...raw]);
    const result = emptyResult();
    result.received = raw.length;
    raw.forEach((r, index) => {
      if (typeof r === "object" && r !== null && "ok" in r) result.created += 1;
      else result.rejected.push({ index, reason: "bad" });
    });
    return result;
  }
}

const ctx: ActionContext = { actor: systemActor("test"), tenantId: "t" };
const ok = { ok: true };

describe("SyncBatches", () => {
  it("ingests in chunks and maps each rejection back to its index in the whole input", async () => {
    const ingest = new FakeIngest();
    const b = new SyncBatches(ingest, ctx, { chunkSize: 3, maxRecords: 100, maxListedRejections: 100 });
    // 0 ok, 1 not JSON, 2 bad, 3 ok | 4 ok, 5 not JSON, 6 bad | 7 ok
    await b.add(ok);
    await b.reject("not JSON");
    await b.add("bad");
    await b.add(ok);
    await b.add(ok);
    await b.reject("not JSON");
    await b.add("bad");
    await b.add(ok);
    const report = await b.finish();
    // A chunk fills with records and early rejections alike: three calls of two records each.
    expect(ingest.calls).toEqual([
      [ok, "bad"],
      [ok, ok],
      ["bad", ok],
    ]);
    expect(report).toMatchObject({ received: 8, created: 4, rejected_count: 4 });
    expect(report.rejected).toEqual([
      { index: 1, reason: "not JSON" },
      { index: 2, reason: "bad" },
      { index: 5, reason: "not JSON" },
      { index: 6, reason: "bad" },
    ]);
  });

  it("awaits each full chunk before taking the next record (back-pressure)", async () => {
    let release: () => void = () => {};
    let running = 0;
    const ingest: UpdateIngest = {
      async ingest(_c, raw) {
        running += 1;
        await new Promise<void>((resolve) => (release = resolve));
        running -= 1;
        return { ...emptyResult(), received: raw.length, created: raw.length };
      },
    };
    const b = new SyncBatches(ingest, ctx, { chunkSize: 2, maxRecords: 100, maxListedRejections: 10 });
    await b.add(ok);
    let second = false;
    const adding = b.add(ok).then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect(running).toBe(1);
    expect(second).toBe(false);
    release();
    await adding;
    expect(second).toBe(true);
    expect((await b.finish()).created).toBe(2);
  });

  it("rejects records beyond maxRecords without ingesting them, after the last chunk's own rejections", async () => {
    const ingest = new FakeIngest();
    const b = new SyncBatches(ingest, ctx, { chunkSize: 10, maxRecords: 3, maxListedRejections: 100 });
    for (const r of [ok, "bad", ok, ok, ok]) await b.add(r);
    const report = await b.finish();
    expect(ingest.calls.flat()).toHaveLength(3);
    expect(report.received).toBe(5);
    expect(report.created).toBe(2);
    expect(report.rejected.map((r) => r.index)).toEqual([1, 3, 4]);
    expect(report.rejected[1]?.reason).toBe("beyond the limit of 3 records per request: not processed");
  });

  it("lists at most maxListedRejections rejections but counts all of them", async () => {
    const b = new SyncBatches(new FakeIngest(), ctx, {
      chunkSize: 4,
      maxRecords: 1000,
      maxListedRejections: 5,
    });
    for (let i = 0; i < 50; i++) await b.add(i % 2 === 0 ? "bad" : ok);
    const report = await b.finish();
    expect(report.rejected_count).toBe(25);
    expect(report.rejected.map((r) => r.index)).toEqual([0, 2, 4, 6, 8]);
    expect(report.created).toBe(25);
  });
});
