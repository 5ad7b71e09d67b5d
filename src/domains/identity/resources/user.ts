import { sql } from "drizzle-orm";
import { z } from "zod";
import {
  actionType,
  authorizeIf,
  bypass,
  forbidUnless,
  isSystemActor,
  policy,
  roleAtLeast,
  rowFilter,
  superUser,
} from "../../../kernel/policy/checks.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { ResourceRef } from "../../../kernel/resource/types.js";
import { users } from "../users.table.js";
import { membershipResource } from "./membership.js";

/**
 * Users: people who sign in. A user is global (one person, one account, several tenants); what they
 * may do in a tenant comes from their membership there. Tenant admins read the members of their
 * tenant; everyone reads themselves; super users administer users. People come in through
 * invitations (or `sonde user create`), not through this resource's create.
 *
 * Two locks, as everywhere: the policy filter below (members of the actor's tenant) and row-level
 * security on "user" for the application role (migrations/0005).
 */
export const userResource = defineResource({
  name: "user",
  table: users,
  tenancy: "global",
  attributes: {
    email: { schema: z.email() },
    name: { schema: z.string().trim().min(1).max(200) },
    display_name: { schema: z.string().trim().min(1).max(200).nullable() },
  },
  relationships: {
    memberships: {
      kind: "has_many",
      resource: (): ResourceRef => membershipResource,
      destinationField: "user_id",
    },
  },
  calculations: {
    member_here: {
      type: "boolean",
      description: "Whether the user is a member of the tenant the request acts in.",
      // Qualified by hand: in a select list drizzle writes the column as a bare "id", which inside the
      // sub-select would name memberships.id.
      sql: (t) =>
        sql`exists (select 1 from memberships m where m.user_id = ${t}.${sql.identifier(t.id.name)} and m.tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid)`,
    },
  },
  actions: {
    read: { type: "read" },
    update: { type: "update", accept: ["name", "display_name", "status", "super_user"] },
  },
  policies: [
    bypass(superUser()),
    bypass(isSystemActor()),
    policy(
      actionType("read"),
      authorizeIf(rowFilter("yourself", () => ({ field: "id", op: "eq", value: { actor: "id" } }))),
      forbidUnless(roleAtLeast("admin")),
      authorizeIf(
        rowFilter("members of your tenant", () => ({ field: "member_here", op: "eq", value: true })),
      ),
    ),
  ],
  minimumScope: "admin",
  events: false,
  description: "People who sign in; their role in each tenant is their membership there.",
});
