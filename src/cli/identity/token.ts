import { apiTokenResource } from "../../domains/identity/resources/index.js";
import type { Scope } from "../../kernel/actor.js";
import type { Rec } from "../../kernel/kernel.js";
import { SondeError } from "../../lib/errors.js";
import { type IdentityContext, listAll, resolveTenant } from "./context.js";
import { requireMember, userByEmail, usersById } from "./members.js";
import { type CommandResult, iso, table } from "./output.js";

const DAY_MS = 86_400_000;

export interface NewToken {
  readonly tenant: string;
  readonly user: string;
  readonly scope: Scope;
  readonly name: string;
  readonly expiresInDays?: number;
}

/** A token for output: never the token or its hash (the kernel does not return the hash anyway). */
function shown(r: Rec, email: unknown) {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    scope: r.scope,
    user: email ?? null,
    expires_at: iso(r.expires_at),
    revoked_at: iso(r.revoked_at),
    last_used_at: iso(r.last_used_at),
    use_count: r.use_count,
    created_at: iso(r.created_at),
  };
}

/**
 * Creates a token for a member of the tenant. The token comes back once, through the action's
 * output; only its SHA-256 is stored, so this is the one time anyone sees it.
 */
export async function createToken(ctx: IdentityContext, input: NewToken): Promise<CommandResult> {
  const tenant = await resolveTenant(ctx, input.tenant);
  // A token acts as its user in the tenant: someone outside it could not use one.
  const { user } = await requireMember(ctx, tenant, input.user);
  const values: Record<string, unknown> = { name: input.name, scope: input.scope, user_id: user.id };
  if (input.expiresInDays !== undefined)
    values.expires_at = new Date(Date.now() + input.expiresInDays * DAY_MS);
  let token: unknown;
  const record = await ctx.kernel.create(
    ctx.kernel.resource(apiTokenResource.name),
    { actor: ctx.actor, tenantId: tenant.id },
    values,
    { output: (out) => (token = out.token) },
  );
  if (typeof token !== "string") throw new SondeError("SONDE_INTERNAL", "the token was not returned");
  return {
    json: {
      token,
      id: record.id,
      name: record.name,
      prefix: record.prefix,
      scope: record.scope,
      expires_at: iso(record.expires_at),
    },
    // The token alone on the first line: `TOKEN=$(sonde token create …)` captures just it.
    plain: [token],
    notes: [
      `sonde: token ${String(record.id)} (${String(record.scope)}, ${user.email} in ${tenant.slug}) is shown only once: store it now`,
    ],
  };
}

export async function listTokens(
  ctx: IdentityContext,
  input: { tenant: string; user?: string },
): Promise<CommandResult> {
  const tenant = await resolveTenant(ctx, input.tenant);
  const user = input.user === undefined ? undefined : await userByEmail(ctx, input.user);
  const records = await listAll(ctx, ctx.kernel.resource(apiTokenResource.name), tenant.id, {
    ...(user !== undefined ? { filter: { field: "user_id", op: "eq", value: user.id } } : {}),
    sort: [{ field: "created_at", direction: "asc" }],
  });
  const users = await usersById(
    ctx,
    tenant,
    records.map((r) => String(r.user_id)),
  );
  const tokens = records.map((r) => shown(r, users.get(String(r.user_id))?.email));
  return {
    json: tokens,
    plain: table(
      ["id", "name", "prefix", "scope", "user", "expires", "revoked", "last used"],
      tokens.map((t) => [
        t.id,
        t.name,
        t.prefix,
        t.scope,
        t.user,
        t.expires_at,
        t.revoked_at,
        t.last_used_at,
      ]),
    ),
  };
}

export async function revokeToken(
  ctx: IdentityContext,
  input: { tenant: string; id: string },
): Promise<CommandResult> {
  const tenant = await resolveTenant(ctx, input.tenant);
  const record = await ctx.kernel.runAction(
    ctx.kernel.resource(apiTokenResource.name),
    "revoke",
    { actor: ctx.actor, tenantId: tenant.id },
    { id: input.id },
  );
  if (record === undefined) throw new SondeError("SONDE_INTERNAL", "revoke returned no token");
  return {
    json: shown(record, undefined),
    plain: [`token ${String(record.id)} revoked`],
  };
}
