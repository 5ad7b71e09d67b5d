import { SondeError } from "../../lib/errors.js";
import type { AnyResource } from "../resource/types.js";
import type { ActionContext } from "./authorize.js";

/**
 * Who may read a sensitive attribute back, and which ones: only the system actor, naming one tenant,
 * and only attributes that are both sensitive (never returned) and encrypted (so that there is a
 * plaintext worth guarding: a password hash has none). The integration runner needs the credentials
 * it stored; no user, super users included, ever gets them back.
 */
export function assertRevealable(resource: AnyResource, ctx: ActionContext, attribute: string): void {
  if (ctx.actor.kind !== "system") {
    throw new SondeError("SONDE_FORBIDDEN", `only the system may reveal ${resource.name}.${attribute}`, {
      meta: { resource: resource.name, reason: "reveal is for the system actor" },
    });
  }
  if (resource.tenancy === "tenant" && (ctx.tenantId === undefined || ctx.tenantId === null)) {
    throw new SondeError("SONDE_BAD_REQUEST", `reveal ${resource.name}.${attribute} in one tenant: name it`);
  }
  if (!resource.sensitive.has(attribute) || !resource.encrypted.has(attribute)) {
    throw new SondeError(
      "SONDE_INTERNAL",
      `${resource.name}.${attribute} is not a sensitive, encrypted attribute: there is nothing to reveal`,
    );
  }
}
