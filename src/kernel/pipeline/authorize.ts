import { SondeError } from "../../lib/errors.js";
import type { Actor, Scope } from "../actor.js";
import type { Filter } from "../filter.js";
import { evaluatePolicies } from "../policy/evaluate.js";
import type { ActionSpec, AnyResource } from "../resource/types.js";
import type { TenantScope } from "../tenancy/transaction.js";

export interface ActionContext {
  readonly actor: Actor;
  /**
   * The system actor names the tenant it works in; `null` works across tenants (audited). Users always
   * act in their actor's tenant (a super user's actor carries the tenant they chose).
   */
  readonly tenantId?: string | null;
  /** A super user reading every tenant's rows at once: explicit, read-only, and audited. */
  readonly crossTenant?: boolean;
}

export interface Authorization {
  readonly filter: Filter;
  readonly scope: TenantScope;
  readonly tenantId: string | null;
  readonly bypassed: boolean;
  readonly applied: readonly string[];
}

export type NamedAction = ActionSpec<AnyResource["table"]> & { readonly name: string };

const SCOPE_RANK: Readonly<Record<Scope, number>> = { read: 0, write: 1, admin: 2 };

/**
 * Token scopes gate action types before any policy: read tokens never write, and a resource may ask
 * more of every token (users and tokens need `admin`, so a write token cannot mint an admin token).
 */
function scopeAllows(actor: Actor, action: NamedAction, resource: AnyResource): boolean {
  if (actor.kind !== "user" || actor.scopes === undefined) return true;
  const least = resource.spec.minimumScope ?? "read";
  const needed = Math.max(SCOPE_RANK[action.type === "read" ? "read" : "write"], SCOPE_RANK[least]);
  return actor.scopes.some((s) => SCOPE_RANK[s] >= needed);
}

/**
 * Decides whether the actor may run the action, and on which rows. Returns the row filter (true for
 * all rows) and the database scope; throws SONDE_FORBIDDEN when nothing could be allowed. Callers
 * audit the refusal (see Kernel).
 */
export function authorize(resource: AnyResource, action: NamedAction, ctx: ActionContext): Authorization {
  const actor = ctx.actor;
  let tenantId: string | null;
  if (actor.kind === "user") {
    if (ctx.tenantId !== undefined && ctx.tenantId !== actor.tenantId) {
      throw new SondeError("SONDE_FORBIDDEN", "a user acts only in the tenant of their session or token");
    }
    tenantId = actor.tenantId;
  } else {
    tenantId = ctx.tenantId ?? null;
  }
  const refused = (why: string) =>
    new SondeError("SONDE_FORBIDDEN", `not allowed to ${action.name} ${resource.plural}`, {
      meta: { resource: resource.name, action: action.name, reason: why },
    });
  if (!scopeAllows(actor, action, resource)) throw refused("token scope");
  const outcome = evaluatePolicies(resource.spec.policies, {
    actor,
    resource: resource.name,
    action: { name: action.name, type: action.type },
  });
  if (outcome.filter === false) throw refused("policy");
  // Only the system actor without a tenant crosses tenants at the database level; everything a user
  // does, super users included, runs inside one tenant's row-level security.
  let bypass = actor.kind === "system" && tenantId === null;
  if (ctx.crossTenant === true) {
    if (actor.kind !== "user" || !actor.superUser) throw refused("only super users read across tenants");
    if (action.type !== "read") throw refused("reads only across tenants");
    bypass = true;
  }
  return {
    filter: outcome.filter,
    scope: { tenantId, bypass },
    tenantId,
    bypassed: outcome.bypassed || ctx.crossTenant === true,
    applied: outcome.applied,
  };
}
