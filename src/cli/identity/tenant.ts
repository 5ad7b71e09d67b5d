import { tenantResource } from "../../domains/identity/resources/index.js";
import type { Rec } from "../../kernel/kernel.js";
import { isSondeError, SondeError } from "../../lib/errors.js";
import { type IdentityContext, listAll, resolveTenant } from "./context.js";
import { type CommandResult, iso, table } from "./output.js";

export interface NewTenant {
  readonly slug: string;
  readonly name: string;
  readonly maxUsers?: number;
  readonly maxDevices?: number;
  readonly contactName?: string;
  readonly contactEmail?: string;
}

/** A tenant for output: every attribute the kernel returns (contact fields decrypted for the operator). */
function shown(r: Rec) {
  return {
    id: r.id,
    slug: r.slug,
    name: r.name,
    status: r.status,
    max_users: r.max_users ?? null,
    max_devices: r.max_devices ?? null,
    contact_name: r.contact_name ?? null,
    contact_email: r.contact_email ?? null,
    created_at: iso(r.created_at),
  };
}

export async function createTenant(ctx: IdentityContext, input: NewTenant): Promise<CommandResult> {
  const values: Record<string, unknown> = { slug: input.slug, name: input.name };
  if (input.maxUsers !== undefined) values.max_users = input.maxUsers;
  if (input.maxDevices !== undefined) values.max_devices = input.maxDevices;
  if (input.contactName !== undefined) values.contact_name = input.contactName;
  if (input.contactEmail !== undefined) values.contact_email = input.contactEmail;
  let record: Rec;
  try {
    record = await ctx.kernel.create(
      ctx.kernel.resource(tenantResource.name),
      { actor: ctx.actor, tenantId: null },
      values,
    );
  } catch (err) {
    // The kernel names the attribute ("slug is already taken"); the operator wants the slug too.
    if (isSondeError(err, "SONDE_DB_UNIQUE_VIOLATION") && err.meta?.field === "slug") {
      throw new SondeError("SONDE_CONFLICT", `a tenant with the slug ${input.slug} exists already`, {
        meta: { field: "slug" },
        cause: err,
      });
    }
    throw err;
  }
  return { json: shown(record), plain: [`tenant ${String(record.slug)} created (id ${String(record.id)})`] };
}

export async function listTenants(ctx: IdentityContext): Promise<CommandResult> {
  const records = (
    await listAll(ctx, ctx.kernel.resource(tenantResource.name), null, {
      sort: [{ field: "slug", direction: "asc" }],
    })
  ).map(shown);
  return {
    json: records,
    plain: table(
      ["slug", "name", "status", "max users", "max devices", "created"],
      records.map((t) => [t.slug, t.name, t.status, t.max_users, t.max_devices, t.created_at]),
    ),
  };
}

/** `suspend` or `resume`: the tenant's state-machine transitions, audited by the kernel. */
export async function transitionTenant(
  ctx: IdentityContext,
  slug: string,
  action: "suspend" | "resume",
): Promise<CommandResult> {
  const tenant = await resolveTenant(ctx, slug);
  const record = await ctx.kernel.runAction(
    ctx.kernel.resource(tenantResource.name),
    action,
    {
      actor: ctx.actor,
      tenantId: null,
    },
    { id: tenant.id },
  );
  if (record === undefined) throw new SondeError("SONDE_INTERNAL", `${action} returned no tenant`);
  return {
    json: shown(record),
    plain: [`tenant ${tenant.slug} ${action === "suspend" ? "suspended" : "resumed"}`],
  };
}
