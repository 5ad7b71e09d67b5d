/**
 * `--profile`: where a kernel read spends its time, phase by phase, from timestamps taken by a thin
 * wrapper around the drizzle instance the kernel is given (the wrapper costs a few microseconds):
 * before the transaction (policies, validation), BEGIN, the scope statement (`set_config`), building
 * the query, the query with its post-processing, COMMIT, and after. The same split for the plain drizzle
 * query, as the baseline. Medians over calls (at most `calls`, for at most about `budgetMs` per operation).
 */
import { Kernel } from "../../src/kernel/kernel.js";
import type { Tx } from "../../src/kernel/tenancy/transaction.js";
import type { Orm } from "../../src/platform/db/types.js";
import { median } from "../stats.js";
import { silentLogger } from "./database.js";
import { getPublic, LIST_SIZE, listNewest, publicIds } from "./queries.js";
import { benchItem, user } from "./resource.js";

export type PhaseFigures = ReadonlyMap<string, number>;

interface Marks {
  txStart: number;
  execStart: number;
  execEnd: number;
  selectStart: number;
  fnEnd: number;
  txEnd: number;
}

/** Wraps `orm` so that its transactions record when BEGIN, the first execute, the select and COMMIT happen. */
function instrument(orm: Orm, marks: Marks): Orm {
  const wrapTx = (tx: Tx): Tx =>
    new Proxy(tx, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop);
        if (typeof value !== "function") return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (prop === "execute") {
          return async (...args: unknown[]) => {
            marks.execStart = performance.now();
            const out: unknown = await fn.apply(target, args);
            marks.execEnd = performance.now();
            return out;
          };
        }
        if (prop === "select") {
          return (...args: unknown[]) => {
            marks.selectStart = performance.now();
            return fn.apply(target, args);
          };
        }
        return fn.bind(target);
      },
    });
  return new Proxy(orm, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (prop === "transaction") {
        return async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
          marks.txStart = performance.now();
          const out = await target.transaction(async (tx) => {
            const r = await fn(wrapTx(tx));
            marks.fnEnd = performance.now();
            return r;
          });
          marks.txEnd = performance.now();
          return out;
        };
      }
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

export async function runPhases(
  orm: Orm,
  tenant: string,
  opts: { calls?: number; budgetMs?: number } = {},
): Promise<Map<string, PhaseFigures>> {
  const calls = opts.calls ?? 3_000;
  const budgetMs = opts.budgetMs ?? 6_000;
  const marks: Marks = { txStart: 0, execStart: 0, execEnd: 0, selectStart: 0, fnEnd: 0, txEnd: 0 };
  const kernel = new Kernel({ orm: instrument(orm, marks), resources: [benchItem], logger: silentLogger });
  const items = kernel.resource("bench_item");
  const viewer = { actor: user(tenant, "viewer") };
  const ids = await publicIds(orm, tenant);
  let g = 0;
  const nextId = () => ids[g++ % ids.length] ?? "";
  const out = new Map<string, PhaseFigures>();
  const ops = {
    list100: {
      kernel: () =>
        kernel.list(items, viewer, {
          sort: [{ field: "created_at", direction: "desc" }],
          page: { size: LIST_SIZE },
        }),
      drizzle: (tx: Tx) => listNewest(tx, tenant),
    },
    get: {
      kernel: () => kernel.get(items, viewer, nextId()),
      drizzle: (tx: Tx) => getPublic(tx, tenant, nextId()),
    },
  };
  for (const [op, { kernel: viaKernel, drizzle: plain }] of Object.entries(ops)) {
    const k: Record<string, number[]> = {
      before_tx: [],
      begin: [],
      scope_set_config: [],
      build: [],
      query_and_rows: [],
      commit: [],
      after_tx: [],
      total: [],
    };
    const d: Record<string, number[]> = { begin: [], query_and_rows: [], commit: [], total: [] };
    const warm = Math.min(500, Math.floor(calls / 5));
    const start = performance.now();
    for (let i = 0; i < calls && (i < warm + 10 || performance.now() - start < budgetMs); i++) {
      // Alternate, so that both see the same conditions.
      let t0 = performance.now();
      await viaKernel();
      let t1 = performance.now();
      if (i >= warm) {
        k.before_tx?.push(marks.txStart - t0);
        k.begin?.push(marks.execStart - marks.txStart);
        k.scope_set_config?.push(marks.execEnd - marks.execStart);
        k.build?.push(marks.selectStart - marks.execEnd);
        k.query_and_rows?.push(marks.fnEnd - marks.selectStart);
        k.commit?.push(marks.txEnd - marks.fnEnd);
        k.after_tx?.push(t1 - marks.txEnd);
        k.total?.push(t1 - t0);
      }
      let a = 0;
      let b = 0;
      t0 = performance.now();
      await orm.transaction(async (tx) => {
        a = performance.now();
        const r = await plain(tx);
        b = performance.now();
        return r;
      });
      t1 = performance.now();
      if (i >= warm) {
        d.begin?.push(a - t0);
        d.query_and_rows?.push(b - a);
        d.commit?.push(t1 - b);
        d.total?.push(t1 - t0);
      }
    }
    const toUs = (m: Record<string, number[]>) =>
      new Map(Object.entries(m).map(([phase, v]) => [phase, median(v) * 1000]));
    out.set(`${op}_kernel`, toUs(k));
    out.set(`${op}_drizzle`, toUs(d));
  }
  return out;
}
