import { z } from "zod";
import {
  actionName,
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
import type { ChangeContext, ResourceRef } from "../../../kernel/resource/types.js";
import { apiTokens } from "../identity.schema.js";
import { newApiToken } from "../secrets.js";
import { userResource } from "./user.js";

/** Longest a token may live: a year, so that forgotten automation tokens die on their own. */
export const MAX_TOKEN_LIFETIME_DAYS = 366;

const own = rowFilter("your own", () => ({ field: "user_id", op: "eq", value: { actor: "id" } }));

/** The token's user: a signed-in user makes tokens for themselves; the system (CLI) names one. */
function owner(values: Record<string, unknown>, ctx: ChangeContext): Record<string, unknown> {
  if (ctx.actor.kind === "user") return { ...values, user_id: ctx.actor.id };
  return values;
}

/** Generates the token: its hash and shown prefix are stored, the token itself is output once. */
function mint(values: Record<string, unknown>, ctx: ChangeContext): Record<string, unknown> {
  const { token, hash, prefix } = newApiToken();
  ctx.output.set("token", token);
  return { ...values, token_hash: hash, prefix };
}

function revoke(values: Record<string, unknown>): Record<string, unknown> {
  return { ...values, revoked_at: new Date() };
}

/**
 * API tokens: bearer credentials for automation. A token acts as its user in one tenant, with the
 * user's role there narrowed by its scope (`read`: safe methods only; `write`: plus mutations; `admin`:
 * plus users and tokens). The token is returned once, on create (`meta.token`); only its SHA-256 is
 * stored. Members make and revoke their own tokens; tenant admins see and revoke everyone's.
 */
export const apiTokenResource = defineResource({
  name: "api_token",
  table: apiTokens,
  tenancy: "tenant",
  attributes: {
    token_hash: { sensitive: true },
    name: { schema: z.string().trim().min(1).max(100) },
    expires_at: {
      schema: z.coerce
        .date()
        .refine((d) => d.getTime() > Date.now(), "must be in the future")
        .refine(
          (d) => d.getTime() <= Date.now() + MAX_TOKEN_LIFETIME_DAYS * 86_400_000,
          `must be within ${MAX_TOKEN_LIFETIME_DAYS} days`,
        )
        .nullable(),
    },
  },
  relationships: {
    user: { kind: "belongs_to", resource: (): ResourceRef => userResource, sourceField: "user_id" },
  },
  actions: {
    read: { type: "read" },
    create: {
      type: "create",
      accept: ["name", "scope", "expires_at", "user_id"],
      require: ["name", "scope"],
      changes: [owner, mint],
      validations: [
        (values) => (values.user_id === undefined ? { field: "user_id", message: "is required" } : undefined),
      ],
      output: ["token"],
      description: "Creates a token; the token itself is in the response's `meta.token`, once.",
    },
    revoke: {
      type: "update",
      route: "revoke",
      changes: [revoke],
      validations: [
        (_values, ctx) =>
          ctx.record?.revoked_at !== null && ctx.record?.revoked_at !== undefined
            ? { field: "revoked_at", message: "the token is already revoked" }
            : undefined,
      ],
      description: "Revokes the token at once; it stays listed with its revoked_at.",
    },
  },
  minimumScope: "admin",
  policies: [
    bypass(superUser()),
    bypass(isSystemActor()),
    policy(actionType("read"), authorizeIf(roleAtLeast("admin")), authorizeIf(own)),
    policy(actionName("create"), authorizeIf(roleAtLeast("viewer"))),
    policy(actionName("revoke"), authorizeIf(roleAtLeast("admin")), authorizeIf(own)),
  ],
  description: "Bearer tokens for automation, each acting as its user in one tenant.",
});
