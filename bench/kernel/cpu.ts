/**
 * The kernel's in-process (CPU) cost, without the database: the same kernel and drizzle calls over a
 * node-postgres stand-in that answers every query at once with canned rows. What remains is the work
 * done in Node per call: policy evaluation, validation, query building, row mapping, the pipeline.
 * Also times the pieces the kernel adds to every call, each on its own.
 */
import { and, asc, desc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import type { Actor } from "../../src/kernel/actor.js";
import { Kernel } from "../../src/kernel/kernel.js";
import { authorize } from "../../src/kernel/pipeline/authorize.js";
import { columnSchema, validateInput } from "../../src/kernel/pipeline/input.js";
import { orderBy } from "../../src/kernel/pipeline/keyset.js";
import { fieldResolver, projection } from "../../src/kernel/pipeline/projection.js";
import type { AnyResource } from "../../src/kernel/resource/types.js";
import { filterToSql } from "../../src/kernel/sql/filter-sql.js";
import type { Orm } from "../../src/platform/db/types.js";
import { silentLogger } from "./database.js";
import { type Comparison, compare, type MeasureOptions } from "./measure.js";
import { benchColumns, getPublic } from "./queries.js";
import { benchItem, benchItems, user } from "./resource.js";
import { LIST_SIZE } from "./queries.js";

const TENANT = "00000000-0000-4000-8000-000000000001";
const ID = "00000000-0000-4000-8000-0000000000aa";

interface FakeQuery {
  readonly text: string;
  readonly rowMode?: string;
}

/**
 * Answers like node-postgres: `limit $n` selects get n rows, `returning` inserts and the tenant look-up
 * one, anything else none.
 */
function fakeClient() {
  const row = (i: number) => [ID, `item-${i}`, "public", i % 10, "2025-01-01 00:00:00+00"];
  const rows = Array.from({ length: LIST_SIZE + 1 }, (_, i) => row(i));
  return {
    async query(q: FakeQuery | string, params: unknown[] = []) {
      const text = typeof q === "string" ? q : q.text;
      let n = 0;
      if (/ limit \$\d+$/.test(text)) n = Number(params.at(-1));
      else if (/ returning /.test(text) || text.includes('from "tenants"')) n = 1;
      const out = rows.slice(0, n);
      const arrayMode = typeof q !== "string" && q.rowMode === "array";
      return { rows: arrayMode ? out : [], rowCount: out.length, fields: [], command: "SELECT" };
    },
  };
}

export interface CpuFigures {
  readonly list: Comparison;
  readonly get: Comparison;
  readonly create: Comparison;
  /** Microseconds per call of each piece the kernel adds. */
  readonly pieces: ReadonlyMap<string, number>;
}

function timeSync(fn: () => unknown, budgetMs = 300): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < budgetMs) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return ((performance.now() - t0) * 1000) / n;
}

export async function runCpu(measure: Partial<MeasureOptions> = {}): Promise<CpuFigures> {
  const orm = drizzle(fakeClient() as never) as unknown as Orm;
  const kernel = new Kernel({ orm, resources: [benchItem], logger: silentLogger });
  const items = kernel.resource("bench_item");
  const viewer = { actor: user(TENANT, "viewer") };
  const operator = { actor: user(TENANT, "operator") };
  const columns = benchColumns;
  const m = { budgetMs: 2_000, warmupMs: 300, batchMs: 20, maxBatch: 5_000, ...measure };
  const listQuery = {
    sort: [{ field: "created_at", direction: "desc" }] as const,
    page: { size: LIST_SIZE },
  };
  const drizzleList = () =>
    orm.transaction((tx) =>
      tx
        .select(columns)
        .from(benchItems)
        .where(and(eq(benchItems.tenant_id, TENANT), eq(benchItems.visibility, "public")))
        .orderBy(desc(benchItems.created_at), asc(benchItems.id))
        .limit(LIST_SIZE + 1),
    );
  const list = await compare(
    [
      { name: "kernel", run: () => kernel.list(items, viewer, listQuery) },
      { name: "drizzle", run: drizzleList },
    ],
    m,
  );
  const get = await compare(
    [
      { name: "kernel", run: () => kernel.get(items, viewer, ID) },
      {
        name: "drizzle",
        run: () => orm.transaction((tx) => getPublic(tx, TENANT, ID)),
      },
    ],
    m,
  );
  const input = { name: "x", visibility: "public", priority: 1 };
  const create = await compare(
    [
      { name: "kernel", run: () => kernel.create(items, operator, input) },
      {
        name: "drizzle",
        run: () =>
          orm.transaction((tx) =>
            tx
              .insert(benchItems)
              .values({ ...input, tenant_id: TENANT })
              .returning(columns),
          ),
      },
    ],
    m,
  );

  const pieces = new Map<string, number>();
  const read = items.actions.get("read");
  const createAction = items.actions.get("create");
  const pk = items.columns.get("id");
  if (read === undefined || createAction === undefined || pk === undefined) throw new Error("bench resource");
  const actor: Actor = viewer.actor;
  const lookup = (): AnyResource => items;
  pieces.set(
    "authorize",
    timeSync(() => authorize(items, read, viewer)),
  );
  pieces.set(
    "valid_id_column_schema",
    timeSync(() => columnSchema(pk).safeParse(ID)),
  );
  pieces.set(
    "validate_input",
    timeSync(() => validateInput(items, createAction, input, {})),
  );
  const auth = authorize(items, read, viewer);
  pieces.set(
    "list_sql_parts",
    timeSync(() => {
      const resolve = fieldResolver(items, lookup);
      filterToSql(auth.filter, resolve, actor);
      filterToSql(true, resolve, actor);
      projection(items, lookup, []);
      orderBy(
        [
          { field: "created_at", direction: "desc" },
          { field: "id", direction: "asc" },
        ],
        (f) => resolve(f) ?? { sql: benchItems.id, array: false },
      );
    }),
  );
  const resolve = fieldResolver(items, lookup);
  pieces.set(
    "list_query_to_sql_kernel_shape",
    timeSync(() =>
      orm
        .select(projection(items, lookup, []))
        .from(benchItems)
        .where(and(filterToSql(auth.filter, resolve, actor), filterToSql(true, resolve, actor)))
        .orderBy(
          ...orderBy(
            [
              { field: "created_at", direction: "desc" },
              { field: "id", direction: "asc" },
            ],
            (f) => resolve(f) ?? { sql: benchItems.id, array: false },
          ),
        )
        .limit(LIST_SIZE + 1)
        .toSQL(),
    ),
  );
  pieces.set(
    "list_query_to_sql_drizzle",
    timeSync(() =>
      orm
        .select(columns)
        .from(benchItems)
        .where(and(eq(benchItems.tenant_id, TENANT), eq(benchItems.visibility, "public")))
        .orderBy(desc(benchItems.created_at), asc(benchItems.id))
        .limit(LIST_SIZE + 1)
        .toSQL(),
    ),
  );
  return { list, get, create, pieces };
}
