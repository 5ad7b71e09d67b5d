import type { Kernel, Rec } from "../../kernel/kernel.js";
import { MAX_PAGE_SIZE } from "../../kernel/kernel.js";
import type { ActionContext } from "../../kernel/pipeline/authorize.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { agentResource, partitionResource, pollerResource } from "./resources/index.js";

export interface CoreInstanceView {
  readonly id: string;
  readonly node: string;
  readonly version: string;
  readonly roles: readonly string[];
  readonly started_at: string;
  readonly heartbeat_at: string;
}

export interface ComponentView {
  readonly id: string;
  readonly component_id: string;
  readonly status: string;
  readonly status_reason: string | null;
  readonly last_heartbeat_at: string | null;
  readonly version: string | null;
  readonly host: string | null;
}

export interface PartitionView {
  readonly slug: string;
  /** Null for a partition that pollers or agents name but no partition record declares (`default`). */
  readonly name: string | null;
  readonly declared: boolean;
  readonly cidr_ranges: readonly string[];
  readonly pollers: readonly ComponentView[];
  readonly agents: readonly ComponentView[];
}

export interface ClusterView {
  readonly core_instances: readonly CoreInstanceView[];
  readonly partitions: readonly PartitionView[];
}

/** Every record the actor may read, page by page (the kernel authorizes each page). */
async function readAll(kernel: Kernel, resource: AnyResource, ctx: ActionContext): Promise<Rec[]> {
  const out: Rec[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await kernel.list(resource, ctx, {
      sort: [{ field: "id", direction: "asc" }],
      page: { size: MAX_PAGE_SIZE, ...(after !== undefined ? { after } : {}) },
    });
    out.push(...page.records);
    if (page.nextCursor === null) return out;
    after = page.nextCursor;
  }
}

const iso = (v: unknown): string | null =>
  v instanceof Date ? v.toISOString() : v === null ? null : String(v);

function component(r: Rec): ComponentView {
  return {
    id: String(r.id),
    component_id: String(r.component_id),
    status: String(r.status),
    status_reason: (r.status_reason as string | null) ?? null,
    last_heartbeat_at: iso(r.last_heartbeat_at ?? null),
    version: (r.version as string | null) ?? null,
    host: (r.host as string | null) ?? null,
  };
}

/**
 * The cluster as one tenant's member sees it: core instances (platform-wide, no tenant data) and the
 * tenant's pollers and agents grouped by partition. Every read is a kernel read of the partitions,
 * pollers and agents resources as the caller, so policies and row-level security decide what is in
 * it; a caller who may not read pollers gets the kernel's refusal, not an empty view.
 */
export async function clusterView(
  kernel: Kernel,
  ctx: ActionContext,
  coreInstances: () => Promise<readonly CoreInstanceView[]>,
): Promise<ClusterView> {
  const [partitions, pollers, agents] = [
    await readAll(kernel, kernel.resource(partitionResource.name), ctx),
    await readAll(kernel, kernel.resource(pollerResource.name), ctx),
    await readAll(kernel, kernel.resource(agentResource.name), ctx),
  ];
  const views = new Map<
    string,
    { name: string | null; cidr: readonly string[]; pollers: ComponentView[]; agents: ComponentView[] }
  >();
  const at = (slug: string) => {
    let v = views.get(slug);
    if (v === undefined) {
      v = { name: null, cidr: [], pollers: [], agents: [] };
      views.set(slug, v);
    }
    return v;
  };
  for (const p of partitions) {
    const v = at(String(p.slug));
    v.name = String(p.name);
    v.cidr = (p.cidr_ranges as string[] | null) ?? [];
  }
  for (const p of pollers) at(String(p.partition)).pollers.push(component(p));
  for (const a of agents) at(String(a.partition)).agents.push(component(a));
  const byComponent = (x: ComponentView, y: ComponentView) => x.component_id.localeCompare(y.component_id);
  return {
    core_instances: await coreInstances(),
    partitions: [...views.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([slug, v]) => ({
        slug,
        name: v.name,
        declared: v.name !== null,
        cidr_ranges: v.cidr,
        pollers: v.pollers.sort(byComponent),
        agents: v.agents.sort(byComponent),
      })),
  };
}
