import { SondeError } from "../../lib/errors.js";
import type { AnyResource } from "../resource/types.js";
import type { NamedAction } from "./authorize.js";

/** The kernel's refusals, worded once. */

export function notFound(resource: AnyResource, id: string): SondeError {
  return new SondeError("SONDE_NOT_FOUND", `${resource.name} ${id} not found`, {
    meta: { resource: resource.name },
  });
}

export function forbidden(resource: AnyResource, action: NamedAction): SondeError {
  return new SondeError("SONDE_FORBIDDEN", `not allowed to ${action.name} ${resource.plural}`, {
    meta: { resource: resource.name, action: action.name },
  });
}

export function invalidTransition(resource: AnyResource, action: string, current: string): SondeError {
  const allowed = (resource.spec.stateMachine?.transitions ?? [])
    .filter((t) => t.from.includes(current))
    .map((t) => t.action);
  return new SondeError(
    "SONDE_INVALID_TRANSITION",
    `cannot ${action} a ${resource.name} in state ${current}; allowed: ${allowed.length ? allowed.join(", ") : "none"}`,
    { meta: { state: current, allowed } },
  );
}
