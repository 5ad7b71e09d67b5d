import { drizzle } from "drizzle-orm/node-postgres";
import { boolean, integer, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { Filter } from "../../src/kernel/filter.js";
import { Kernel } from "../../src/kernel/kernel.js";
import {
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  roleAtLeast,
} from "../../src/kernel/policy/checks.js";
import { defineResource } from "../../src/kernel/resource/define.js";
import {
  cronProblem,
  defineTrigger,
  triggerJobDefinitions,
  triggerJobs,
  type TriggerSpec,
  verifyTriggers,
} from "../../src/kernel/triggers/index.js";
import * as schema from "../../src/platform/db/schema.js";
import type { Orm } from "../../src/platform/db/types.js";
import { comments, notes } from "../support/kernel-fixtures.js";

const jobsTable = pgTable("verify_jobs", {
  id: uuid("id").primaryKey(),
  tenant_id: uuid("tenant_id").notNull(),
  state: text("state").notNull(),
  priority: integer("priority").notNull(),
  token: text("token"),
  done: boolean("done").notNull(),
});

const work = defineResource({
  name: "work_item",
  table: jobsTable,
  tenancy: "tenant",
  attributes: { token: { sensitive: true } },
  actions: {
    read: { type: "read" },
    create: { type: "create", accept: ["priority"] },
    finish: { type: "update" },
    fail: { type: "update" },
    destroy: { type: "destroy" },
  },
  policies: [bypass(isSystemActor()), policy(actionType("read"), authorizeIf(roleAtLeast("viewer")))],
});

const globalTable = pgTable("verify_globals", {
  id: uuid("id").primaryKey(),
  state: text("state").notNull(),
});
const globals = defineResource({
  name: "global_thing",
  table: globalTable,
  tenancy: "global",
  actions: { read: { type: "read" }, touch: { type: "update" } },
  policies: [bypass(isSystemActor())],
});

const unregistered = defineResource({ ...work, name: "stray_item" });

// Users only: nothing lets the system actor act.
const usersOnly = defineResource({
  name: "user_item",
  table: pgTable("verify_user_items", {
    id: uuid("id").primaryKey(),
    tenant_id: uuid("tenant_id").notNull(),
    priority: integer("priority").notNull(),
  }),
  tenancy: "tenant",
  actions: { read: { type: "read" }, close: { type: "update" } },
  policies: [policy(actionType("read", "update"), authorizeIf(roleAtLeast("operator")))],
});

// The kernel is only asked about its declarations here; the ORM is never called.
const orm: Orm = drizzle.mock({ schema }) as unknown as Orm;
const kernel = new Kernel({
  orm,
  resources: [notes, comments, work, globals, usersOnly],
  logger: pino({ level: "silent" }),
});

const base: TriggerSpec = {
  name: "finish_urgent",
  resource: work,
  action: "finish",
  where: { field: "priority", op: "gt", value: 5 },
  cron: "*/10 * * * *",
};

function problem(overrides: Partial<TriggerSpec>): string {
  try {
    verifyTriggers(kernel, [defineTrigger({ ...base, ...overrides })]);
  } catch (err) {
    expect(err).toMatchObject({ code: "SONDE_CONFIG_INVALID" });
    return (err as Error).message;
  }
  throw new Error("expected SONDE_CONFIG_INVALID");
}

describe("verifyTriggers", () => {
  it("resolves a valid trigger and fills defaults", () => {
    const [t] = verifyTriggers(kernel, [defineTrigger(base)]);
    expect(t).toMatchObject({
      name: "finish_urgent",
      maxAttempts: 3,
      batchSize: 100,
      actor: { kind: "system", reason: "trigger:finish_urgent" },
      action: { name: "finish", type: "update" },
      readAction: { name: "read" },
      onError: undefined,
    });
    expect(t?.resource.name).toBe("work_item");
    const [d] = verifyTriggers(kernel, [
      defineTrigger({ ...base, action: "destroy", onError: "fail", batchSize: 10 }),
    ]);
    expect(d).toMatchObject({ action: { type: "destroy" }, onError: { name: "fail" }, batchSize: 10 });
  });

  it.each<[string, Partial<TriggerSpec>, RegExp]>([
    [
      "unregistered resource",
      { resource: unregistered },
      /trigger finish_urgent: resource stray_item is not registered/,
    ],
    ["global resource", { resource: globals, action: "touch", where: true }, /global_thing is global/],
    ["unknown action", { action: "explode" }, /action explode is not an action of work_item/],
    ["read action", { action: "read" }, /action read is a read action; it must be update or destroy/],
    ["create action", { action: "create" }, /action create is a create action/],
    ["unknown onError", { onError: "panic" }, /onError panic is not an action/],
    ["destroy as onError", { onError: "destroy" }, /onError destroy is a destroy action; it must be update/],
    ["unknown readAction", { readAction: "finish" }, /readAction finish is a update action; it must be read/],
    ["unknown field", { where: { field: "colour", op: "eq", value: "red" } }, /where names colour/],
    ["sensitive field", { where: { field: "token", op: "is_null", value: false } }, /where names token/],
    [
      "nested unknown field",
      {
        where: {
          and: [{ field: "done", op: "eq", value: false }, { not: { field: "nope", op: "eq", value: 1 } }],
        },
      },
      /where names nope/,
    ],
    [
      "actor reference",
      { where: { field: "state", op: "eq", value: { actor: "id" } } },
      /refers to the actor/,
    ],
    ["where false", { where: false }, /could never act/],
    ["non-snake name", { name: "FinishUrgent" }, /trigger FinishUrgent: name must be snake_case/],
    ["dashed name", { name: "finish-urgent" }, /name must be snake_case/],
    ["reserved name", { name: "dead" }, /reserved/],
    ["long name", { name: `t${"x".repeat(60)}` }, /at most 60/],
    ["four-field cron", { cron: "* * * *" }, /cron "\* \* \* \*" must have 5 fields/],
    ["six-field cron", { cron: "0 * * * * *" }, /must have 5 fields/],
    ["minute out of range", { cron: "61 * * * *" }, /minute field: "61" is not a minute/],
    ["backward range", { cron: "* 5-2 * * *" }, /hour field: range "5-2" runs backwards/],
    ["zero step", { cron: "*/0 * * * *" }, /step "0" must be a positive number/],
    ["bad month name", { cron: "0 0 1 foo *" }, /month field/],
    ["maxAttempts 0", { maxAttempts: 0 }, /maxAttempts must be an integer from 1 to 100, got 0/],
    ["batchSize too big", { batchSize: 5000 }, /batchSize must be an integer from 1 to 1000/],
    ["fractional delay", { retryDelaySeconds: 1.5 }, /retryDelaySeconds/],
  ])("refuses %s", (_label, overrides, message) => {
    expect(problem(overrides)).toMatch(message);
  });

  it("refuses a trigger whose resource's policies deny the system actor", () => {
    const where: Filter = { field: "priority", op: "gt", value: 5 };
    expect(problem({ name: "close_items", resource: usersOnly, action: "close", where })).toMatch(
      /trigger close_items: the policies of user_item do not allow the system actor to close/,
    );
  });

  it("accepts a trigger on the notes fixture, whose policies let the system actor act", () => {
    const where: Filter = {
      and: [
        { field: "state", op: "eq", value: "draft" },
        { field: "display_name", op: "like", value: "%x%" },
      ],
    };
    expect(
      verifyTriggers(kernel, [defineTrigger({ ...base, resource: notes, action: "archive", where })]),
    ).toHaveLength(1);
  });

  it("refuses duplicate trigger names", () => {
    expect(() => verifyTriggers(kernel, [defineTrigger(base), defineTrigger({ ...base })])).toThrow(
      /trigger finish_urgent: is declared twice/,
    );
    expect(() => triggerJobDefinitions([defineTrigger(base), defineTrigger({ ...base })])).toThrow(
      /declared twice/,
    );
  });
});

describe("trigger jobs", () => {
  it("defines a scan and a run job per trigger, the same objects every time", () => {
    const spec = defineTrigger({ ...base, maxAttempts: 4, retryDelaySeconds: 2 });
    const defs = triggerJobDefinitions([spec]);
    expect(defs.map((d) => d.name)).toEqual(["trigger.scan.finish_urgent", "trigger.run.finish_urgent"]);
    expect(triggerJobDefinitions([spec])).toEqual(defs);
    expect(triggerJobs(spec).run).toBe(defs[1]);
    expect(triggerJobs(spec).run).toMatchObject({ retryLimit: 3, retryDelaySeconds: 2, policy: "short" });
    expect(triggerJobs(spec).scan).toMatchObject({ retryLimit: 0, policy: "short", deadLetter: false });
  });

  it("checks the declaration before defining jobs for it", () => {
    expect(() => triggerJobDefinitions([defineTrigger({ ...base, name: "Bad Name" })])).toThrow(
      /trigger Bad Name: name must be snake_case/,
    );
  });
});

describe("cronProblem", () => {
  it.each([
    "* * * * *",
    "*/5 * * * *",
    "0 0 1 jan *",
    "0 9-17 * * mon-fri",
    "15,45 */2 1-31/3 1-12 0,7",
    "  0  0 * * SUN ",
  ])("accepts %j", (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });
});
