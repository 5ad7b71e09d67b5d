/**
 * The real `ActorResolver`: an API token (`Authorization: Bearer sonde_…`) or a better-auth session
 * cookie names a user; the user's membership in the selected tenant gives the role. A user without
 * a membership there is authenticated but not allowed: 403, not 401. A super user names any tenant
 * with `X-Sonde-Tenant: <slug or id>` and acts there as admin; each such request is audited.
 */
import type { FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Scope, UserActor } from "../../kernel/actor.js";
import type { Auth } from "../../domains/identity/auth.js";
import {
  auditTenantEntry,
  findTenant,
  listMemberships,
  type Membership,
  type TenantRef,
} from "../../domains/identity/memberships.js";
import type { TokenUsage } from "../../domains/identity/token-usage.js";
import { verifyApiToken } from "../../domains/identity/tokens.js";
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
  /** Tokens only: the membership in the token's tenant, read with the token (undefined: look it up). */
  readonly membership?: Membership | null;
}

export interface ResolverOptions {
  readonly auth: Auth;
  readonly orm: Orm;
  readonly logger: Logger;
  /** Where token use is counted (batched); none: not counted. */
  readonly tokenUsage?: TokenUsage;
}

function suspended(tenant: TenantRef): SondeError {
  return new SondeError("SONDE_TENANT_SUSPENDED", `tenant ${tenant.slug} is suspended`, {
    meta: { tenant: tenant.slug },
  });
}

export function createActorResolver({ auth, orm, logger, tokenUsage }: ResolverOptions): ActorResolver {
  async function fromToken(token: string, ip: string): Promise<Principal | null> {
    const verified = await verifyApiToken(orm, token);
    if (typeof verified === "string") {
      if (verified !== "unknown") logger.debug({ refusal: verified }, "API token refused");
      return null;
    }
    if (verified.user.status !== "active") return null;
    tokenUsage?.record(verified.id, ip);
    return {
      userId: verified.userId,
      superUser: verified.user.superUser,
      tenantId: verified.tenantId,
      boundToTenant: true,
      scopes: [verified.scope],
      membership: verified.membership,
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
    const found = token !== undefined ? await fromToken(token, request.ip) : await fromSession(request);
    if (found === null) return null;
    const principal: Principal = found;
    const scopes = principal.scopes !== undefined ? { scopes: principal.scopes } : {};
    const named = request.headers[TENANT_HEADER];
    const header = typeof named === "string" && named.trim() !== "" ? named.trim() : undefined;

    /** A super user entering a tenant as admin, with or without a membership there; audited. */
    async function enter(slugOrId: string, via: string): Promise<UserActor> {
      const tenant = await findTenant(orm, slugOrId);
      if (tenant === undefined) throw new SondeError("SONDE_FORBIDDEN", `no tenant ${slugOrId}`);
      if (principal.boundToTenant && principal.tenantId !== tenant.id) {
        throw new SondeError("SONDE_FORBIDDEN", "this API token acts only in its own tenant");
      }
      // Super users still enter a suspended tenant: they are the ones who resume it.
      const actor: UserActor = {
        kind: "user",
        id: principal.userId,
        tenantId: tenant.id,
        role: "admin",
        superUser: true,
        ...scopes,
      };
      await auditTenantEntry(orm, actor, tenant.id, {
        via,
        method: request.method,
        path: request.url.split("?")[0],
      });
      return actor;
    }

    if (header !== undefined && principal.superUser) return enter(header, "X-Sonde-Tenant");

    const wanted = header ?? principal.tenantId;
    // A token brought its membership along: its tenant is the only one it may act in.
    const memberships =
      principal.membership === undefined
        ? await listMemberships(orm, principal.userId)
        : principal.membership === null
          ? []
          : [principal.membership];
    const membership =
      wanted === null
        ? (memberships.find((m) => m.tenant.status === "active") ?? memberships[0])
        : memberships.find((m) => m.tenant.id === wanted || m.tenant.slug === wanted);
    // A super user's session switched to a tenant they are not a member of (POST /api/v2/me/tenant).
    if (membership === undefined && principal.superUser && wanted !== null && !principal.boundToTenant) {
      return enter(wanted, "session");
    }
    if (membership === undefined) {
      throw new SondeError(
        "SONDE_FORBIDDEN",
        principal.boundToTenant && header !== undefined
          ? "this API token acts only in its own tenant"
          : wanted === null
            ? "you are not a member of any tenant"
            : "you are not a member of that tenant",
      );
    }
    if (membership.tenant.status === "suspended" && !principal.superUser) throw suspended(membership.tenant);
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
