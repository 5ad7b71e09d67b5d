import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "../../src/platform/fabric/backoff.js";
import { RecentIds } from "../../src/platform/fabric/recent-ids.js";

describe("backoffDelay", () => {
  const policy = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0.2 };

  it("doubles from the initial delay and stops at the bound", () => {
    const middle = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 6, 50].map((n) => backoffDelay(policy, n, middle))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
  });

  it("spreads by the jitter fraction either way, never past the bound", () => {
    expect(backoffDelay(policy, 2, () => 0)).toBe(160);
    expect(backoffDelay(policy, 2, () => 1)).toBe(240);
    expect(backoffDelay(policy, 9, () => 1)).toBe(1_000);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(DEFAULT_BACKOFF, 1 + (i % 10));
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxMs);
    }
  });
});

describe("RecentIds", () => {
  it("remembers ids for the window only", () => {
    const ids = new RecentIds(1_000, 10);
    ids.add("a", 0);
    expect(ids.has("a", 999)).toBe(true);
    expect(ids.has("a", 1_001)).toBe(false);
    expect(ids.size).toBe(0);
  });

  it("forgets the oldest ids first when full", () => {
    const ids = new RecentIds(60_000, 3);
    for (const [i, id] of ["a", "b", "c", "d"].entries()) ids.add(id, i);
    expect(ids.size).toBe(3);
    expect(ids.has("a", 10)).toBe(false);
    expect(["b", "c", "d"].every((id) => ids.has(id, 10))).toBe(true);
    // Seeing an id again makes it the newest.
    ids.add("b", 11);
    ids.add("e", 12);
    expect(ids.has("c", 13)).toBe(false);
    expect(ids.has("b", 13)).toBe(true);
  });
});
