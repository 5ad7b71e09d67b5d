/**
 * The real `ActorResolver`: an API token (`Authorization: Bearer sonde_…`) or a better-auth session
 * cookie names a user; the user's membership in the selected tenant gives the role. A user without
 * a membership there is authenticated but not allowed: 403, not 401. A super user names any tenant
 * with `X-Sonde-Tenant: <slug or id>` and acts there as admin; each such request is audited.
 */
import type { FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Scope, UserActor } from "../../kernel/actor.js";
import { API_TOKEN_PREFIX, type Auth } from "../../domains/identity/auth.js";
import {
  auditTenantEntry,
  findTenant,
  findUser,
  listMemberships,
} from "../../domains/identity/memberships.js";
import { tokenMetadataSchema } from "../../domains/identity/tokens.js";
import { SondeError } from "../../lib/errors.js";
import type { Orm } from "../../platform/db/types.js";
import { type ActorResolver, bearerToken } from "./actor.js";
import { fetchHeaders } from "./fetch.js";

export const TENANT_HEADER = "x-sonde-tenant";

/** Who the credentials name, before a tenant is chosen. */
interface Principal {
  readonly userId: string;
  readonly superUser: boolean;
  /** The tenant the credential is bound to (token) or chose (session); null: the first membership. */
  readonly tenantId: string | null;
  /** Tokens only: a token acts only in its own tenant. */
  readonly boundToTenant: boolean;
  readonly scopes?: readonly Scope[];
}

export interface ResolverOptions {
  readonly auth: Auth;
  readonly orm: Orm;
  readonly logger: Logger;
}

export function createActorResolver({ auth, orm, logger }: ResolverOptions): ActorResolver {
  async function fromToken(token: string): Promise<Principal | null> {
    // Not one of ours: no lookup, no rate-limit slot spent on someone else's token.
    if (!token.startsWith(API_TOKEN_PREFIX)) return null;
    const result = await auth.api.verifyApiKey({ body: { key: token } });
    if (!result.valid || result.key === null) {
      if (result.error?.code === "RATE_LIMITED" || result.error?.code === "USAGE_EXCEEDED") {
        throw new SondeError("SONDE_RATE_LIMITED", "this API token has made too many requests");
      }
      return null;
    }
    const metadata = tokenMetadataSchema.safeParse(result.key.metadata);
    if (!metadata.success) {
      logger.warn({ keyId: result.key.id }, "API token without a tenant and scope refused");
      return null;
    }
    const user = await findUser(orm, result.key.referenceId);
    if (user === undefined || user.status !== "active") return null;
    return {
      userId: user.id,
      superUser: user.superUser,
      tenantId: metadata.data.tenantId,
      boundToTenant: true,
      scopes: [metadata.data.scope],
    };
  }

  async function fromSession(request: FastifyRequest): Promise<Principal | null> {
    if (request.headers.cookie === undefined) return null;
    const found = await auth.api.getSession({ headers: fetchHeaders(request) });
    if (found === null || found.user.status !== "active") return null;
    return {
      userId: found.user.id,
      superUser: found.user.superUser === true,
      tenantId: found.session.activeTenantId ?? null,
      boundToTenant: false,
    };
  }

  return async (request) => {
    const token = bearerToken(request);
    const principal = token !== undefined ? await fromToken(token) : await fromSession(request);
    if (principal === null) return null;
    const scopes = principal.scopes !== undefined ? { scopes: principal.scopes } : {};
    const named = request.headers[TENANT_HEADER];
    const header = typeof named === "string" && named.trim() !== "" ? named.trim() : undefined;

    if (header !== undefined && principal.superUser) {
      const tenant = await findTenant(orm, header);
      if (tenant === undefined) throw new SondeError("SONDE_FORBIDDEN", `no tenant ${header}`);
      if (principal.boundToTenant && principal.tenantId !== tenant.id) {
        throw new SondeError("SONDE_FORBIDDEN", "this API token acts only in its own tenant");
      }
      const actor: UserActor = {
        kind: "user",
        id: principal.userId,
        tenantId: tenant.id,
        role: "admin",
        superUser: true,
        ...scopes,
      };
      await auditTenantEntry(orm, actor, tenant.id, {
        via: "X-Sonde-Tenant",
        method: request.method,
        path: request.url.split("?")[0],
      });
      return actor;
    }

    const memberships = await listMemberships(orm, principal.userId);
    const wanted = header ?? principal.tenantId;
    const membership =
      wanted === null
        ? memberships[0]
        : memberships.find((m) => m.tenant.id === wanted || m.tenant.slug === wanted);
    if (membership === undefined) {
      throw new SondeError(
        "SONDE_FORBIDDEN",
        wanted === null ? "you are not a member of any tenant" : "you are not a member of that tenant",
      );
    }
    if (principal.boundToTenant && membership.tenant.id !== principal.tenantId) {
      throw new SondeError("SONDE_FORBIDDEN", "this API token acts only in its own tenant");
    }
    return {
      kind: "user",
      id: principal.userId,
      tenantId: membership.tenant.id,
      role: membership.role,
      superUser: principal.superUser,
      ...scopes,
    };
  };
}
