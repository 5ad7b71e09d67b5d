import { SondeError } from "../../lib/errors.js";
import type { AnyResource } from "../resource/types.js";
import type { NamedAction } from "./authorize.js";

export function findAction(resource: AnyResource, name: string, type?: NamedAction["type"]): NamedAction {
  const a = resource.actions.get(name);
  if (a === undefined || (type !== undefined && a.type !== type)) {
    throw new SondeError(
      "SONDE_NOT_FOUND",
      `${resource.name} has no ${type ?? ""} action ${name}`.replace("  ", " "),
    );
  }
  return a;
}

/** The resource's plain action of a type: the one named like the type, else the first of the type. */
export function defaultAction(resource: AnyResource, type: NamedAction["type"]): NamedAction {
  const preferred = resource.actions.get(type);
  if (preferred?.type === type) return preferred;
  // Never a transition or a custom-route action: those run only when named.
  const any = [...resource.actions.values()].find(
    (a) =>
      a.type === type &&
      a.route === undefined &&
      a.bulk !== true &&
      !resource.transitionsByAction.has(a.name),
  );
  if (any === undefined)
    throw new SondeError("SONDE_METHOD_NOT_ALLOWED", `${resource.plural} cannot be ${type}d`);
  return any;
}

/** The named action, which must be of this type, or the resource's plain action of the type. */
export function pickAction(
  resource: AnyResource,
  type: NamedAction["type"],
  name: string | undefined,
): NamedAction {
  const action = name === undefined ? defaultAction(resource, type) : findAction(resource, name, type);
  if (action.bulk === true) {
    throw new SondeError(
      "SONDE_BAD_REQUEST",
      `${resource.name} ${action.name} is a bulk action: run it in bulk`,
    );
  }
  return action;
}
