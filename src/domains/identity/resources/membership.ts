import {
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  roleAtLeast,
  rowFilter,
  superUser,
} from "../../../kernel/policy/checks.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { ResourceRef, Validation } from "../../../kernel/resource/types.js";
import { memberships } from "../auth.schema.js";
import { userResource } from "./user.js";

/**
 * An admin who demoted or removed themselves could leave the tenant without an admin: another admin
 * (or a super user) changes your membership, never you.
 */
const notYourOwn: Validation = (_values, ctx) =>
  ctx.actor.kind === "user" && ctx.record?.user_id === ctx.actor.id
    ? { field: "user_id", message: "you cannot change or remove your own membership" }
    : undefined;

/**
 * A user's role in one tenant. Tenant admins read, change and remove memberships; everyone reads
 * their own. Memberships are created by accepting an invitation (or by `sonde user create`, as the
 * system), never by naming someone else's user id: a user outside the tenant is invisible to it.
 * The tenant's `max_users` bounds how many there are.
 */
export const membershipResource = defineResource({
  name: "membership",
  table: memberships,
  tenancy: "tenant",
  identities: { user: ["user_id"] },
  relationships: {
    user: { kind: "belongs_to", resource: (): ResourceRef => userResource, sourceField: "user_id" },
  },
  actions: {
    read: { type: "read" },
    create: { type: "create", accept: ["user_id", "role"], require: ["user_id", "role"] },
    update: { type: "update", accept: ["role"], validations: [notYourOwn] },
    destroy: { type: "destroy", validations: [notYourOwn] },
  },
  quota: { limit: "max_users" },
  minimumScope: "admin",
  policies: [
    bypass(superUser()),
    bypass(isSystemActor()),
    policy(
      actionType("read"),
      authorizeIf(roleAtLeast("admin")),
      authorizeIf(rowFilter("your own", () => ({ field: "user_id", op: "eq", value: { actor: "id" } }))),
    ),
    policy(actionType("update", "destroy"), authorizeIf(roleAtLeast("admin"))),
  ],
  description: "A user's role (viewer, operator or admin) in this tenant.",
});
