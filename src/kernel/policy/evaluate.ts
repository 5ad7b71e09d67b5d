import { and, type Filter, not, or } from "../filter.js";
import type { Check, Policy, PolicyContext, PolicyStep } from "./types.js";

function checkValue(check: Check, ctx: PolicyContext): Filter {
  return check.kind === "simple" ? check.test(ctx) : check.filter(ctx);
}

/** Folds a policy's steps from the last: the first deciding step wins, none deciding forbids. */
function stepsFilter(steps: readonly PolicyStep[], ctx: PolicyContext): Filter {
  let rest: Filter = false;
  for (const step of [...steps].reverse()) {
    const c = checkValue(step.check, ctx);
    switch (step.effect) {
      case "authorize_if":
        rest = or(c, rest);
        break;
      case "forbid_if":
        rest = and(not(c), rest);
        break;
      case "authorize_unless":
        rest = or(not(c), rest);
        break;
      case "forbid_unless":
        rest = and(c, rest);
        break;
    }
  }
  return rest;
}

export interface PolicyOutcome {
  /** true: allowed on every row; false: forbidden; otherwise allowed on rows matching the filter. */
  readonly filter: Filter;
  /** Whether a bypass decided (recorded in the audit log for super users). */
  readonly bypassed: boolean;
  /** The checks that applied, for error messages and the audit log. */
  readonly applied: readonly string[];
}

/** Evaluates a resource's policies for one actor and action. Deny by default. */
export function evaluatePolicies(policies: readonly Policy[], ctx: PolicyContext): PolicyOutcome {
  for (const p of policies) {
    if (p.kind === "bypass" && p.check.test(ctx)) {
      return { filter: true, bypassed: true, applied: [`bypass: ${p.check.describe}`] };
    }
  }
  const applicable = policies.filter((p) => p.kind === "policy" && p.condition.test(ctx));
  if (applicable.length === 0) return { filter: false, bypassed: false, applied: ["no policy applies"] };
  const filters = applicable.map((p) => (p.kind === "policy" ? stepsFilter(p.steps, ctx) : true));
  return {
    filter: and(...filters),
    bypassed: false,
    applied: applicable.map((p) => (p.kind === "policy" ? `policy: ${p.condition.describe}` : "")),
  };
}
