/**
 * Interleaved, time-boxed comparison of async operations. Each contender is warmed up, then runs in
 * batches sized to take about `batchMs`; a round runs one batch of every contender (the order rotates
 * each round so that neither always goes first), and each batch yields one per-operation sample.
 * Interleaving matters on these noisy 2-core machines: drift (autovacuum, checkpoints, a neighbour)
 * hits both sides of a ratio alike, and the ratio is the median of the per-round ratios.
 */
import { median } from "../stats.js";

export interface Contender {
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

export interface MeasureOptions {
  /** Stop starting rounds after this long (once `minRounds` are done). */
  readonly budgetMs: number;
  readonly minRounds: number;
  readonly maxRounds: number;
  readonly batchMs: number;
  readonly warmupMs: number;
  readonly maxBatch: number;
}

export const DEFAULT_MEASURE: MeasureOptions = {
  budgetMs: 8_000,
  minRounds: 5,
  maxRounds: 41,
  batchMs: 60,
  warmupMs: 600,
  maxBatch: 400,
};

export interface Measured {
  /** Per-operation microseconds, one sample per round. */
  readonly samples: readonly number[];
  readonly medianUs: number;
  readonly ops: number;
}

export interface Comparison {
  readonly results: ReadonlyMap<string, Measured>;
  readonly rounds: number;
  /** Median over rounds of `a / b` (per-operation time), paired within each round. */
  ratio(a: string, b: string): number;
}

async function timeBatch(run: () => Promise<unknown>, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run();
  return ((performance.now() - t0) * 1000) / n;
}

export async function compare(
  contenders: readonly Contender[],
  options: Partial<MeasureOptions> = {},
): Promise<Comparison> {
  const o = { ...DEFAULT_MEASURE, ...options };
  const batch = new Map<string, number>();
  for (const c of contenders) {
    const t0 = performance.now();
    let calls = 0;
    while (calls < 3 || performance.now() - t0 < o.warmupMs) {
      await c.run();
      calls++;
    }
    const perOpMs = (performance.now() - t0) / calls;
    batch.set(c.name, Math.max(1, Math.min(o.maxBatch, Math.round(o.batchMs / perOpMs))));
  }
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  const ops = new Map<string, number>(contenders.map((c) => [c.name, 0]));
  const start = performance.now();
  let rounds = 0;
  while (rounds < o.maxRounds && (rounds < o.minRounds || performance.now() - start < o.budgetMs)) {
    for (let i = 0; i < contenders.length; i++) {
      const c = contenders[(i + rounds) % contenders.length];
      if (c === undefined) continue;
      const n = batch.get(c.name) ?? 1;
      samples.get(c.name)?.push(await timeBatch(c.run, n));
      ops.set(c.name, (ops.get(c.name) ?? 0) + n);
    }
    rounds++;
  }
  const results = new Map<string, Measured>();
  for (const c of contenders) {
    const s = samples.get(c.name) ?? [];
    results.set(c.name, { samples: s, medianUs: median(s), ops: ops.get(c.name) ?? 0 });
  }
  return {
    results,
    rounds,
    ratio(a, b) {
      const sa = samples.get(a) ?? [];
      const sb = samples.get(b) ?? [];
      return median(sa.map((x, i) => x / (sb[i] ?? Number.NaN)));
    },
  };
}
