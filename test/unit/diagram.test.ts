import { pgTable, text, uuid } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { stateMachineMermaid } from "../../src/kernel/diagram.js";
import { actionType, authorizeIf, policy, roleAtLeast } from "../../src/kernel/policy/checks.js";
import { defineResource } from "../../src/kernel/resource/define.js";
import { comments, notes } from "../support/kernel-fixtures.js";

const ticketsTable = pgTable("tickets", {
  id: uuid("id").primaryKey(),
  tenant_id: uuid("tenant_id").notNull(),
  status: text("status").notNull(),
});

const tickets = defineResource({
  name: "ticket",
  table: ticketsTable,
  tenancy: "tenant",
  actions: {
    read: { type: "read" },
    review: { type: "update" },
    approve: { type: "update" },
    reopen: { type: "update" },
  },
  stateMachine: {
    attribute: "status",
    initial: "new",
    states: ["new", "in review", "s1", "done", "on-hold"],
    transitions: [
      { action: "review", from: ["new"], to: "in review" },
      { action: "approve", from: ["in review"], to: "done" },
      { action: "reopen", from: ["done", "in review"], to: "new" },
    ],
  },
  policies: [policy(actionType("read", "update"), authorizeIf(roleAtLeast("viewer")))],
});

describe("stateMachineMermaid", () => {
  it("draws the notes state machine exactly", () => {
    expect(stateMachineMermaid(notes)).toBe(
      [
        "stateDiagram-v2",
        "    [*] --> draft",
        "    draft --> published : publish",
        "    draft --> archived : archive",
        "    published --> archived : archive",
        "",
      ].join("\n"),
    );
  });

  it("aliases states that are not identifiers, avoiding declared names, and lists unconnected states", () => {
    expect(stateMachineMermaid(tickets)).toBe(
      [
        "stateDiagram-v2",
        '    state "in review" as s2',
        '    state "on-hold" as s3',
        "    [*] --> new",
        "    new --> s2 : review",
        "    s2 --> done : approve",
        "    done --> new : reopen",
        "    s2 --> new : reopen",
        "    s1",
        "    s3",
        "",
      ].join("\n"),
    );
  });

  it("is stable: the same declaration gives the same text", () => {
    expect(stateMachineMermaid(notes)).toBe(stateMachineMermaid(notes));
  });

  it("refuses a resource without a state machine", () => {
    expect(() => stateMachineMermaid(comments)).toThrow(/comment has no state machine/);
  });
});
