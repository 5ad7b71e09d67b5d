/**
 * What the kernel benchmark measures, on one loaded database: each kernel action against the same
 * drizzle query without the kernel (as the owner, in a plain transaction, tenant named explicitly), and
 * RLS alone (the same drizzle query inside `inScope`).
 */
import { Kernel } from "../../src/kernel/kernel.js";
import { inScope } from "../../src/kernel/tenancy/transaction.js";
import type { Database } from "../../src/platform/db/types.js";
import { type Comparison, compare, type Contender, type MeasureOptions } from "./measure.js";
import { benchItem, benchItemQuiet, benchItems, user } from "./resource.js";
import { silentLogger } from "./database.js";
import { benchColumns, getPublic, LIST_SIZE, listNewest, publicIds } from "./queries.js";

export { LIST_SIZE } from "./queries.js";

export interface Figures {
  readonly get: Comparison;
  readonly list: Comparison;
  readonly create: Comparison;
  readonly scope: Comparison;
}

export interface ScenarioOptions {
  readonly measure?: Partial<MeasureOptions>;
  /** Optional hook per phase (progress on stderr). */
  readonly progress?: (phase: string) => void;
}

export async function runScenarios(
  db: Database,
  tenantIds: readonly string[],
  opts: ScenarioOptions = {},
): Promise<Figures> {
  const orm = db.orm;
  const tenant = tenantIds[0];
  if (tenant === undefined) throw new Error("no tenant");
  const kernel = new Kernel({ orm, resources: [benchItem, benchItemQuiet], logger: silentLogger });
  const items = kernel.resource("bench_item");
  const quiet = kernel.resource("bench_item_quiet");
  const viewer = { actor: user(tenant, "viewer") };
  const operator = { actor: user(tenant, "operator") };
  const scope = { tenantId: tenant, bypass: false };
  const m = opts.measure ?? {};

  // Read by id: viewers may read public rows, so rotate through public ids of the tenant.
  const ids = await publicIds(orm, tenant);
  let g = 0;
  const nextId = () => ids[g++ % ids.length] ?? "";
  opts.progress?.("read by id");
  const get = await compare(
    [
      { name: "kernel", run: () => kernel.get(items, viewer, nextId()) },
      {
        name: "drizzle",
        run: () => orm.transaction((tx) => getPublic(tx, tenant, nextId())),
      },
    ],
    m,
  );

  opts.progress?.("list 100");
  const listQuery = {
    sort: [{ field: "created_at", direction: "desc" }] as const,
    page: { size: LIST_SIZE },
  };
  const list = await compare(
    [
      { name: "kernel", run: () => kernel.list(items, viewer, listQuery) },
      {
        name: "drizzle",
        run: () => orm.transaction((tx) => listNewest(tx, tenant)),
      },
      {
        // RLS only, the query naming the tenant as well (the index can then be used).
        name: "rls_explicit_tenant",
        run: () => inScope(orm, scope, (tx) => listNewest(tx, tenant)),
      },
      {
        // RLS only, the tenant left to the policy: the query the kernel sends.
        name: "rls_only_tenant",
        run: () => inScope(orm, scope, (tx) => listNewest(tx, undefined)),
      },
    ],
    { budgetMs: 12_000, ...m },
  );

  opts.progress?.("scope round trip");
  const scopeCmp = await compare(
    [
      { name: "plain_tx", run: () => orm.transaction(async () => undefined) },
      { name: "in_scope", run: () => inScope(orm, scope, async () => undefined) },
    ],
    { budgetMs: 4_000, ...m },
  );

  opts.progress?.("create");
  let n = 0;
  const input = () => ({
    name: `created-${++n}`,
    visibility: n % 5 === 0 ? "private" : "public",
    priority: n % 10,
  });
  const contenders: Contender[] = [
    { name: "kernel", run: () => kernel.create(items, operator, input()) },
    { name: "kernel_no_events", run: () => kernel.create(quiet, operator, input()) },
    {
      name: "drizzle",
      run: () =>
        orm.transaction((tx) =>
          tx
            .insert(benchItems)
            .values({ ...input(), tenant_id: tenant })
            .returning(benchColumns),
        ),
    },
  ];
  const create = await compare(contenders, m);
  return { get, list, create, scope: scopeCmp };
}
