import { type Role, ROLES, type Scope } from "../actor.js";
import type { Filter } from "../filter.js";
import type { ActionType } from "../resource/types.js";
import type {
  BypassPolicy,
  Check,
  ConditionalPolicy,
  FilterCheck,
  PolicyContext,
  PolicyStep,
  SimpleCheck,
} from "./types.js";

const simple = (describe: string, test: (ctx: PolicyContext) => boolean): SimpleCheck => ({
  kind: "simple",
  describe,
  test,
});

export const always = (): SimpleCheck => simple("always", () => true);

export const actionType = (...types: ActionType[]): SimpleCheck =>
  simple(`action type is ${types.join(" or ")}`, (ctx) => types.includes(ctx.action.type));

export const actionName = (...names: string[]): SimpleCheck =>
  simple(`action is ${names.join(" or ")}`, (ctx) => names.includes(ctx.action.name));

/** The actor's role in the tenant is one of these. */
export const actorRole = (...roles: Role[]): SimpleCheck =>
  simple(
    `actor role is ${roles.join(" or ")}`,
    (ctx) => ctx.actor.kind === "user" && roles.includes(ctx.actor.role),
  );

/** The actor's role is this one or a higher one (viewer < operator < admin). */
export const roleAtLeast = (role: Role): SimpleCheck =>
  simple(
    `actor role is at least ${role}`,
    (ctx) => ctx.actor.kind === "user" && ROLES.indexOf(ctx.actor.role) >= ROLES.indexOf(role),
  );

export const superUser = (): SimpleCheck =>
  simple("actor is a super user", (ctx) => ctx.actor.kind === "user" && ctx.actor.superUser);

export const isSystemActor = (): SimpleCheck =>
  simple("actor is the system", (ctx) => ctx.actor.kind === "system");

/** Token scope: sessions (no scopes) pass; tokens need the scope. */
export const hasScope = (scope: Scope): SimpleCheck =>
  simple(
    `actor has scope ${scope}`,
    (ctx) =>
      ctx.actor.kind === "user" && (ctx.actor.scopes === undefined || ctx.actor.scopes.includes(scope)),
  );

/** A row-level condition, e.g. `rowFilter("own notes", () => ({ field: "ownerId", op: "eq", value: { actor: "id" } }))`. */
export const rowFilter = (describe: string, filter: (ctx: PolicyContext) => Filter): FilterCheck => ({
  kind: "filter",
  describe,
  filter,
});

export const authorizeIf = (check: Check): PolicyStep => ({ effect: "authorize_if", check });
export const forbidIf = (check: Check): PolicyStep => ({ effect: "forbid_if", check });
export const authorizeUnless = (check: Check): PolicyStep => ({ effect: "authorize_unless", check });
export const forbidUnless = (check: Check): PolicyStep => ({ effect: "forbid_unless", check });

export const bypass = (check: SimpleCheck): BypassPolicy => ({ kind: "bypass", check });
export const policy = (condition: SimpleCheck, ...steps: PolicyStep[]): ConditionalPolicy => ({
  kind: "policy",
  condition,
  steps,
});
