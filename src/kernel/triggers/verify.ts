import { isSondeError, SondeError } from "../../lib/errors.js";
import { type SystemActor, systemActor } from "../actor.js";
import { type Filter, filterFields, isActorRef } from "../filter.js";
import type { Kernel } from "../kernel.js";
import { authorize, type NamedAction } from "../pipeline/authorize.js";
import type { ActionType, AnyResource } from "../resource/types.js";
import { cronProblem } from "./cron.js";
import { TRIGGER_DEFAULTS, type TriggerSpec } from "./types.js";

/** A trigger after boot verification: its resource and actions resolved, defaults filled in. */
export interface ResolvedTrigger {
  readonly spec: TriggerSpec;
  readonly name: string;
  readonly resource: AnyResource;
  readonly action: NamedAction;
  readonly onError: NamedAction | undefined;
  readonly readAction: NamedAction;
  readonly maxAttempts: number;
  readonly batchSize: number;
  /** `trigger:<name>`: who the history and the audit log say acted. */
  readonly actor: SystemActor;
}

const NAME = /^[a-z][a-z0-9_]*$/;
// Job names are capped at 100 characters; `trigger.scan.` and a tenant suffix need room.
const NAME_MAX = 60;
// Only for asking the policies: they see the actor and action, never the tenant.
const PROBE_TENANT = "00000000-0000-0000-0000-000000000000";

function bad(name: string, message: string): SondeError {
  return new SondeError("SONDE_CONFIG_INVALID", `trigger ${name}: ${message}`, { meta: { trigger: name } });
}

function checkInteger(spec: TriggerSpec, field: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw bad(spec.name, `${field} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/** What can be checked without the kernel: name, cron, numbers. Throws SONDE_CONFIG_INVALID. */
export function checkTriggerSpec(spec: TriggerSpec): void {
  if (!NAME.test(spec.name) || spec.name.length > NAME_MAX) {
    throw bad(
      spec.name,
      `name must be snake_case (a-z, 0-9, _), starting with a letter, at most ${NAME_MAX} long`,
    );
  }
  if (spec.name === "dead") throw bad(spec.name, "name 'dead' is reserved for dead-letter queues");
  const cron = cronProblem(spec.cron);
  if (cron !== undefined) throw bad(spec.name, `cron "${spec.cron}" ${cron}`);
  checkInteger(spec, "maxAttempts", spec.maxAttempts ?? TRIGGER_DEFAULTS.maxAttempts, 1, 100);
  checkInteger(
    spec,
    "retryDelaySeconds",
    spec.retryDelaySeconds ?? TRIGGER_DEFAULTS.retryDelaySeconds,
    0,
    86_400,
  );
  checkInteger(spec, "batchSize", spec.batchSize ?? TRIGGER_DEFAULTS.batchSize, 1, 1000);
}

function action(
  spec: TriggerSpec,
  resource: AnyResource,
  role: string,
  name: string,
  types: readonly ActionType[],
): NamedAction {
  const found = resource.actions.get(name);
  if (found === undefined) throw bad(spec.name, `${role} ${name} is not an action of ${resource.name}`);
  if (!types.includes(found.type)) {
    throw bad(spec.name, `${role} ${name} is a ${found.type} action; it must be ${types.join(" or ")}`);
  }
  return found;
}

function defaultRead(spec: TriggerSpec, resource: AnyResource): NamedAction {
  if (spec.readAction !== undefined) return action(spec, resource, "readAction", spec.readAction, ["read"]);
  const preferred = resource.actions.get("read");
  const found =
    preferred?.type === "read" ? preferred : [...resource.actions.values()].find((a) => a.type === "read");
  if (found === undefined) throw bad(spec.name, `${resource.name} has no read action`);
  return found;
}

function checkWhere(spec: TriggerSpec, resource: AnyResource): void {
  if (spec.where === false) throw bad(spec.name, "where is false: the trigger could never act");
  for (const field of filterFields(spec.where)) {
    // Sensitive values are not for conditions, and encrypted ones would compare ciphertext.
    const attribute =
      resource.columns.has(field) && !resource.sensitive.has(field) && !resource.encrypted.has(field);
    const calculation = resource.spec.calculations?.[field] !== undefined;
    if (!attribute && !calculation) {
      throw bad(
        spec.name,
        `where names ${field}, which is not a (non-sensitive, unencrypted) attribute or calculation of ${resource.name}`,
      );
    }
  }
  const refs = (f: Filter): boolean => {
    if (typeof f === "boolean") return false;
    if ("and" in f) return f.and.some(refs);
    if ("or" in f) return f.or.some(refs);
    if ("not" in f) return refs(f.not);
    return isActorRef(f.value);
  };
  if (refs(spec.where))
    throw bad(spec.name, "where refers to the actor, but a trigger runs as the system actor");
}

/** The system actor must be allowed the action by the resource's own policies; triggers bypass nothing. */
function checkAllowed(
  spec: TriggerSpec,
  resource: AnyResource,
  actor: SystemActor,
  actions: readonly NamedAction[],
): void {
  for (const a of actions) {
    try {
      authorize(resource, a, { actor, tenantId: PROBE_TENANT });
    } catch (err) {
      if (isSondeError(err, "SONDE_FORBIDDEN")) {
        throw bad(spec.name, `the policies of ${resource.name} do not allow the system actor to ${a.name}`);
      }
      throw err;
    }
  }
}

/**
 * Verifies triggers against the kernel they will run on, at boot: unknown resource or actions, a
 * filter over unknown fields, a bad cron expression or name, duplicate names, or policies that refuse
 * the system actor each fail with SONDE_CONFIG_INVALID naming the trigger.
 */
export function verifyTriggers(kernel: Kernel, triggers: readonly TriggerSpec[]): ResolvedTrigger[] {
  const seen = new Set<string>();
  return triggers.map((spec) => {
    checkTriggerSpec(spec);
    if (seen.has(spec.name)) throw bad(spec.name, "is declared twice");
    seen.add(spec.name);
    const resource = kernel.resources.get(spec.resource.name);
    if (resource === undefined || resource.spec !== spec.resource) {
      throw bad(spec.name, `resource ${spec.resource.name} is not registered with the kernel`);
    }
    if (resource.tenancy !== "tenant") {
      throw bad(spec.name, `resource ${resource.name} is global; triggers scan and queue per tenant`);
    }
    const main = action(spec, resource, "action", spec.action, ["update", "destroy"]);
    const onError =
      spec.onError === undefined ? undefined : action(spec, resource, "onError", spec.onError, ["update"]);
    const readAction = defaultRead(spec, resource);
    checkWhere(spec, resource);
    const actor = systemActor(`trigger:${spec.name}`);
    checkAllowed(spec, resource, actor, [main, readAction, ...(onError === undefined ? [] : [onError])]);
    return {
      spec,
      name: spec.name,
      resource,
      action: main,
      onError,
      readAction,
      maxAttempts: spec.maxAttempts ?? TRIGGER_DEFAULTS.maxAttempts,
      batchSize: spec.batchSize ?? TRIGGER_DEFAULTS.batchSize,
      actor,
    };
  });
}
