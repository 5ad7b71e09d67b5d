import { sql } from "drizzle-orm";
import { integer, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { isSondeError } from "../../src/lib/errors.js";
import { actionType, authorizeIf, policy, roleAtLeast, rowFilter } from "../../src/kernel/policy/checks.js";
import { defineResource } from "../../src/kernel/resource/define.js";
import { buildRegistry } from "../../src/kernel/resource/registry.js";
import type { ResourceRef } from "../../src/kernel/resource/types.js";
import { comments, notes } from "../support/kernel-fixtures.js";

const things = pgTable("things", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenant_id: uuid("tenant_id").notNull(),
  name: text("name").notNull(),
  state: text("state").notNull().default("new"),
  size: integer("size"),
});
const untenanted = pgTable("untenanted", { id: uuid("id").primaryKey(), name: text("name") });
const readable = [policy(actionType("read"), authorizeIf(roleAtLeast("viewer")))];

/** Boot with one broken declaration; returns the error message. */
function bootError(spec: Parameters<typeof defineResource<typeof things>>[0]): string {
  try {
    buildRegistry([defineResource(spec)]);
  } catch (err) {
    if (isSondeError(err, "SONDE_CONFIG_INVALID")) return err.message;
    throw err;
  }
  throw new Error("expected boot to fail");
}

const base = { name: "thing", table: things, tenancy: "tenant" as const, policies: readable };

describe("resource verification at boot", () => {
  it("accepts the fixture resources and derives the JSON:API type", () => {
    const reg = buildRegistry([notes, comments]);
    expect(reg.byType.get("notes")?.name).toBe("note");
    expect(reg.byName.get("note")?.sensitive.has("secret")).toBe(true);
    expect(reg.byName.get("note")?.columns.has("tenant_id")).toBe(false);
  });

  it("rejects an event area or an action's event name that is not one subject token", () => {
    expect(bootError({ ...base, eventArea: "in.fra", actions: { read: { type: "read" } } })).toBe(
      "resource thing: eventArea in.fra is not one subject token ([a-z0-9_-]+)",
    );
    expect(
      bootError({
        ...base,
        actions: { read: { type: "read" }, close: { type: "update", event: "closed.>" } },
      }),
    ).toBe("resource thing: action close: event closed.> is not one subject token ([a-z0-9_-]+)");
  });

  it("rejects an action accepting an unknown attribute", () => {
    expect(
      bootError({
        ...base,
        actions: { read: { type: "read" }, create: { type: "create", accept: ["nmae" as "name"] } },
      }),
    ).toBe("resource thing: action create accepts unknown attribute nmae");
  });

  it("rejects a transition to an undeclared state and one naming an unknown action", () => {
    const actions = { read: { type: "read" as const }, close: { type: "update" as const } };
    expect(
      bootError({
        ...base,
        actions,
        stateMachine: {
          attribute: "state",
          initial: "new",
          states: ["new", "open"],
          transitions: [{ action: "close", from: ["new"], to: "closed" }],
        },
      }),
    ).toBe("resource thing: transition close names undeclared state closed");
    expect(
      bootError({
        ...base,
        actions,
        stateMachine: {
          attribute: "state",
          initial: "new",
          states: ["new"],
          transitions: [{ action: "shut", from: ["new"], to: "new" }],
        },
      }),
    ).toBe("resource thing: transition names unknown action shut");
  });

  it("rejects an action that sets the state attribute directly", () => {
    expect(
      bootError({
        ...base,
        actions: { read: { type: "read" }, update: { type: "update", accept: ["state"] } },
        stateMachine: { attribute: "state", initial: "new", states: ["new"], transitions: [] },
      }),
    ).toMatch(/action update accepts the state attribute state; only transitions change it/);
  });

  it("rejects a policy filter on an unknown attribute, and a resource with no policies", () => {
    expect(
      bootError({
        ...base,
        actions: { read: { type: "read" } },
        policies: [
          policy(
            actionType("read"),
            authorizeIf(rowFilter("mine", () => ({ field: "owner", op: "eq", value: { actor: "id" } }))),
          ),
        ],
      }),
    ).toBe('resource thing: policy filter "mine" names unknown attribute owner');
    expect(bootError({ ...base, actions: { read: { type: "read" } }, policies: [] })).toMatch(
      /declares no policies/,
    );
  });

  it("rejects a tenant-scoped resource without tenant_id, and one without a read action", () => {
    expect(() =>
      buildRegistry([
        defineResource({
          name: "u",
          table: untenanted,
          tenancy: "tenant",
          actions: { read: { type: "read" } },
          policies: readable,
        }),
      ]),
    ).toThrow(/is tenant-scoped but table untenanted has no tenant_id column/);
    expect(bootError({ ...base, actions: { create: { type: "create", accept: ["name"] } } })).toBe(
      "resource thing: declares no read action",
    );
  });

  it("rejects unknown relationships, aggregates and duplicate resources", () => {
    const ghost: ResourceRef = { name: "ghost" };
    expect(() =>
      buildRegistry([
        defineResource({
          ...base,
          actions: { read: { type: "read" } },
          relationships: { owner: { kind: "has_many", resource: () => ghost, destinationField: "x" } },
        }),
      ]),
    ).toThrow("resource thing: relationship owner points to ghost, which is not registered");
    expect(
      bootError({
        ...base,
        actions: { read: { type: "read" } },
        aggregates: { n: { kind: "count", relationship: "nope" } },
      }),
    ).toBe("resource thing: aggregate n names unknown relationship nope");
    expect(() => buildRegistry([notes, notes])).toThrow("resource note is declared twice");
  });

  it("rejects a calculation named like an attribute", () => {
    expect(
      bootError({
        ...base,
        actions: { read: { type: "read" } },
        calculations: { name: { type: "string", sql: () => sql`1` } },
      }),
    ).toMatch(/name is declared twice/);
  });
});
