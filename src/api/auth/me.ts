/**
 * `GET /api/v2/me`: who the credentials name, the tenant they act in and with which role, and the
 * user's memberships (for a tenant switcher). Plain JSON: it describes the caller, not a resource.
 */
import type { FastifyPluginAsync } from "fastify";
import { findTenant, findUser, listMemberships } from "../../domains/identity/memberships.js";
import { SondeError } from "../../lib/errors.js";
import type { Orm } from "../../platform/db/types.js";
import { type ActorResolver, authenticate } from "./actor.js";

export interface MeRoutesOptions {
  readonly orm: Orm;
  readonly resolveActor: ActorResolver;
}

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
        tenant: { id: m.tenant.id, slug: m.tenant.slug, name: m.tenant.name },
        role: m.role,
      })),
    };
  });
};
