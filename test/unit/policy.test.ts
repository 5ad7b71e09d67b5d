import { describe, expect, it } from "vitest";
import { type Actor, systemActor } from "../../src/kernel/actor.js";
import { matches } from "../../src/kernel/filter.js";
import {
  actionType,
  actorRole,
  authorizeIf,
  authorizeUnless,
  bypass,
  forbidIf,
  policy,
  roleAtLeast,
  rowFilter,
  superUser,
} from "../../src/kernel/policy/checks.js";
import { evaluatePolicies } from "../../src/kernel/policy/evaluate.js";
import type { Policy } from "../../src/kernel/policy/types.js";

const user = (role: "viewer" | "operator" | "admin", superUserFlag = false): Actor => ({
  kind: "user",
  id: `u-${role}`,
  tenantId: "t",
  role,
  superUser: superUserFlag,
});
const ctx = (actor: Actor, type: "read" | "create" | "update" | "destroy" = "read", name: string = type) => ({
  actor,
  resource: "thing",
  action: { name, type },
});

describe("policy evaluation", () => {
  it("denies by default: no applicable policy, and for the system actor too", () => {
    const policies: Policy[] = [policy(actionType("read"), authorizeIf(roleAtLeast("viewer")))];
    expect(evaluatePolicies(policies, ctx(user("admin"), "destroy")).filter).toBe(false);
    expect(evaluatePolicies(policies, ctx(systemActor("job"))).filter).toBe(false);
    expect(evaluatePolicies([], ctx(user("admin"))).filter).toBe(false);
  });

  it("lets the first deciding step win, and forbids when none decides", () => {
    const p = [
      policy(actionType("update"), forbidIf(actorRole("viewer")), authorizeIf(roleAtLeast("operator"))),
    ];
    expect(evaluatePolicies(p, ctx(user("viewer"), "update")).filter).toBe(false);
    expect(evaluatePolicies(p, ctx(user("operator"), "update")).filter).toBe(true);
    const none = [policy(actionType("update"), authorizeIf(actorRole("admin")))];
    expect(evaluatePolicies(none, ctx(user("operator"), "update")).filter).toBe(false);
  });

  it("requires every applicable policy to allow", () => {
    const p = [
      policy(actionType("update"), authorizeIf(roleAtLeast("operator"))),
      policy(actionType("update"), authorizeUnless(actorRole("operator"))),
    ];
    expect(evaluatePolicies(p, ctx(user("operator"), "update")).filter).toBe(false);
    expect(evaluatePolicies(p, ctx(user("admin"), "update")).filter).toBe(true);
  });

  it("lets a bypass decide alone", () => {
    const p = [bypass(superUser()), policy(actionType("destroy"), forbidIf(actionType("destroy")))];
    const out = evaluatePolicies(p, ctx(user("viewer", true), "destroy"));
    expect(out).toMatchObject({ filter: true, bypassed: true });
  });

  it("turns filter checks into a row filter with the right logic", () => {
    const p = [
      policy(
        actionType("read"),
        authorizeIf(roleAtLeast("operator")),
        forbidIf(rowFilter("hidden", () => ({ field: "hidden", op: "eq", value: true }))),
        authorizeIf(rowFilter("mine", () => ({ field: "owner", op: "eq", value: { actor: "id" } }))),
      ),
    ];
    expect(evaluatePolicies(p, ctx(user("operator"))).filter).toBe(true);
    const viewer = user("viewer");
    const f = evaluatePolicies(p, ctx(viewer)).filter;
    expect(typeof f).toBe("object");
    expect(matches(f, { hidden: false, owner: "u-viewer" }, viewer)).toBe(true);
    expect(matches(f, { hidden: true, owner: "u-viewer" }, viewer)).toBe(false);
    expect(matches(f, { hidden: false, owner: "someone" }, viewer)).toBe(false);
  });
});

describe("filter evaluation in memory", () => {
  const a = user("admin");
  it("compares, matches patterns, arrays and nulls", () => {
    const r = { n: 5, s: "router-01", tags: ["core", "edge"], nothing: null };
    expect(matches({ field: "n", op: "gte", value: 5 }, r, a)).toBe(true);
    expect(matches({ field: "n", op: "in", value: [1, 5] }, r, a)).toBe(true);
    expect(matches({ field: "s", op: "like", value: "router-%" }, r, a)).toBe(true);
    expect(matches({ field: "s", op: "like", value: "switch%" }, r, a)).toBe(false);
    expect(matches({ field: "tags", op: "contains", value: "edge" }, r, a)).toBe(true);
    expect(matches({ field: "nothing", op: "is_null", value: true }, r, a)).toBe(true);
    expect(matches({ not: { field: "n", op: "eq", value: 5 } }, r, a)).toBe(false);
    expect(matches({ or: [false, { field: "n", op: "lt", value: 6 }] }, r, a)).toBe(true);
  });
});
