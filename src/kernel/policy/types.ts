/**
 * Policies, after Ash: deny by default, evaluated for every action by the kernel's pipeline.
 *
 * - bypass(check): when the check holds, the action is allowed and no other policy is asked.
 * - policy(condition, ...steps): applies to an action when its condition holds. Its steps are read in
 *   order; the first one that decides wins (authorize_if true → allowed, forbid_if true → forbidden);
 *   when none decides, the policy forbids. Every applicable policy must allow.
 * - No applicable policy → forbidden.
 *
 * A check is either simple (a yes/no about the actor and action) or a filter check (a condition on the
 * rows). Filter checks make the outcome a row filter: reads are filtered by it, updates and destroys of
 * rows outside it are forbidden, and creates are checked against the input.
 */
import type { Actor } from "../actor.js";
import type { Filter } from "../filter.js";
import type { ActionType } from "../resource/types.js";

export interface PolicyContext {
  readonly actor: Actor;
  readonly resource: string;
  readonly action: { readonly name: string; readonly type: ActionType };
}

export interface SimpleCheck {
  readonly kind: "simple";
  readonly describe: string;
  test(ctx: PolicyContext): boolean;
}

export interface FilterCheck {
  readonly kind: "filter";
  readonly describe: string;
  filter(ctx: PolicyContext): Filter;
}

export type Check = SimpleCheck | FilterCheck;

export type StepEffect = "authorize_if" | "forbid_if" | "authorize_unless" | "forbid_unless";

export interface PolicyStep {
  readonly effect: StepEffect;
  readonly check: Check;
}

export interface BypassPolicy {
  readonly kind: "bypass";
  readonly check: SimpleCheck;
}

export interface ConditionalPolicy {
  readonly kind: "policy";
  readonly condition: SimpleCheck;
  readonly steps: readonly PolicyStep[];
}

export type Policy = BypassPolicy | ConditionalPolicy;
