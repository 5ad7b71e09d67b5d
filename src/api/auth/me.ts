/**
 * `GET /api/v2/me`: who the credentials name, the tenant they act in and with which role, and the
 * user's memberships (for a tenant switcher). `POST /api/v2/me/tenant` is the switch: a signed-in
 * member of several tenants picks the one their session acts in. Plain JSON: these describe the
 * caller, not a resource.
 */
import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import type { Auth } from "../../domains/identity/auth.js";
import {
  auditTenantEntry,
  findTenant,
  findUser,
  listMemberships,
} from "../../domains/identity/memberships.js";
import type { UserActor } from "../../kernel/actor.js";
import { SondeError } from "../../lib/errors.js";
import type { Orm } from "../../platform/db/types.js";
import { type ActorResolver, authenticate } from "./actor.js";
import { fetchHeaders } from "./fetch.js";

export interface MeRoutesOptions {
  readonly orm: Orm;
  readonly auth: Auth;
  readonly resolveActor: ActorResolver;
}

const switchSchema = z.strictObject({ tenant: z.string().trim().min(1).max(100) });

export const meRoutes: FastifyPluginAsync<MeRoutesOptions> = async (app, opts) => {
  app.get("/me", async (request, reply) => {
    const actor = await authenticate(request, opts.resolveActor);
    if (actor.kind !== "user") throw new SondeError("SONDE_FORBIDDEN", "only users have a profile");
    const [user, tenant, memberships] = await Promise.all([
      findUser(opts.orm, actor.id),
      findTenant(opts.orm, actor.tenantId),
      listMemberships(opts.orm, actor.id),
    ]);
    if (user === undefined || tenant === undefined) {
      throw new SondeError("SONDE_UNAUTHENTICATED", "the signed-in user no longer exists");
    }
    void reply.header("cache-control", "no-store");
    return {
      user: {
        id: user.id,
        email: user.email,
        name: user.name,
        display_name: user.displayName,
        super_user: user.superUser,
      },
      tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
      role: actor.role,
      ...(actor.scopes !== undefined ? { scopes: actor.scopes } : {}),
      memberships: memberships.map((m) => ({
        tenant: { id: m.tenant.id, slug: m.tenant.slug, name: m.tenant.name, status: m.tenant.status },
        role: m.role,
      })),
    };
  });

  app.post("/me/tenant", async (request, reply) => {
    if (request.headers.authorization !== undefined) {
      throw new SondeError("SONDE_BAD_REQUEST", "an API token acts only in its own tenant: switch a session");
    }
    const parsed = switchSchema.safeParse(request.body);
    if (!parsed.success) {
      throw new SondeError("SONDE_VALIDATION_FAILED", "tenant: a tenant slug or id is required", {
        pointer: "/tenant",
      });
    }
    const found = await opts.auth.api.getSession({ headers: fetchHeaders(request) });
    if (found === null) throw new SondeError("SONDE_UNAUTHENTICATED", "sign in to switch tenants");
    const wanted = parsed.data.tenant;
    const tenant = await findTenant(opts.orm, wanted);
    const member = (await listMemberships(opts.orm, found.user.id)).find((m) => m.tenant.id === tenant?.id);
    // A super user needs no membership, but still names a tenant that exists.
    if (tenant === undefined || (member === undefined && found.user.superUser !== true)) {
      throw new SondeError("SONDE_FORBIDDEN", "you are not a member of that tenant");
    }
    if (tenant.status === "suspended" && found.user.superUser !== true) {
      throw new SondeError("SONDE_TENANT_SUSPENDED", `tenant ${tenant.slug} is suspended`);
    }
    const ctx = await opts.auth.$context;
    await ctx.internalAdapter.updateSession(found.session.token, { activeTenantId: tenant.id });
    // A super user entering a tenant they are not a member of: on that tenant's record from the
    // switch on, not only from the first request made there.
    if (member === undefined) {
      const actor: UserActor = {
        kind: "user",
        id: found.user.id,
        tenantId: tenant.id,
        role: "admin",
        superUser: true,
      };
      await auditTenantEntry(opts.orm, actor, tenant.id, {
        via: "switch",
        method: request.method,
        path: "/api/v2/me/tenant",
      });
    }
    void reply.header("cache-control", "no-store");
    return { tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name }, role: member?.role ?? "admin" };
  });
};
