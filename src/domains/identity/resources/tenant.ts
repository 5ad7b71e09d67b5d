import { z } from "zod";
import {
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  rowFilter,
  superUser,
} from "../../../kernel/policy/checks.js";
import { tenants } from "../../../kernel/kernel.schema.js";
import { defineResource } from "../../../kernel/resource/define.js";

/**
 * A tenant slug names the tenant's bus subjects, queues and registry keys (`sonde.<slug>.…`), so it
 * is one subject token: lower-case letters, digits and inner hyphens. `platform` names work without a
 * tenant and is reserved.
 */
export const TENANT_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const RESERVED_SLUGS = new Set(["platform"]);

const limit = z.number().int().min(1).max(10_000_000).nullable();

/**
 * Tenants: the customers whose networks Sonde watches. Super users create and administer them (and
 * suspend them: a member of only suspended tenants gets no session, and no member of a suspended
 * tenant can call the API in it); a member reads
 * their own tenant. Tenants are never deleted through the API: suspend one instead.
 */
export const tenantResource = defineResource({
  name: "tenant",
  table: tenants,
  tenancy: "global",
  attributes: {
    slug: { schema: z.string().regex(TENANT_SLUG, "lower-case letters, digits and inner hyphens") },
    name: { schema: z.string().trim().min(1).max(200) },
    max_users: { schema: limit },
    max_devices: { schema: limit },
    contact_name: { encrypted: true, schema: z.string().trim().min(1).max(200).nullable() },
    contact_email: { encrypted: true, schema: z.email().max(320).nullable() },
  },
  identities: { slug: ["slug"] },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["slug", "name", "max_users", "max_devices", "contact_name", "contact_email"],
      require: ["slug", "name"],
      validations: [
        (values) =>
          typeof values.slug === "string" && RESERVED_SLUGS.has(values.slug)
            ? { field: "slug", message: `${values.slug} is reserved` }
            : undefined,
      ],
    },
    update: { type: "update", accept: ["name", "max_users", "max_devices", "contact_name", "contact_email"] },
    suspend: { type: "update", route: "suspend", description: "Stops the tenant's members signing in." },
    resume: { type: "update", route: "resume", description: "Lets the tenant's members back in." },
  },
  stateMachine: {
    attribute: "status",
    initial: "active",
    states: ["active", "suspended"],
    transitions: [
      { action: "suspend", from: ["active"], to: "suspended" },
      { action: "resume", from: ["suspended"], to: "active" },
    ],
  },
  policies: [
    bypass(superUser()),
    bypass(isSystemActor()),
    policy(
      actionType("read"),
      authorizeIf(rowFilter("your tenant", () => ({ field: "id", op: "eq", value: { actor: "tenantId" } }))),
    ),
  ],
  // A tenant is not an event of the tenant the super user happens to act in.
  events: false,
  description: "Customers whose networks Sonde watches; super users administer them.",
});
