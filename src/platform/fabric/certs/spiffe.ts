import { SondeError } from "../../../lib/errors.js";
import { componentIdSchema, slugSchema } from "../contract.js";

/**
 * SPIFFE ids of the fabric's components: `spiffe://sonde/tenant/<tenant>/<component>/<id>`. The tenant
 * and id follow the contract's slug rules, so an id can neither add a path segment nor name another
 * tenant; parsing is exact (no normalising, no trailing slash, no query).
 */
export const TRUST_DOMAIN = "sonde";

export const CERT_COMPONENTS = ["core", "poller", "agent"] as const;
export type CertComponent = (typeof CERT_COMPONENTS)[number];

export interface SpiffeIdentity {
  readonly tenant: string;
  readonly component: CertComponent;
  readonly id: string;
}

const SPIFFE_ID = /^spiffe:\/\/sonde\/tenant\/([^/]+)\/([^/]+)\/([^/]+)$/;

export function isCertComponent(value: string): value is CertComponent {
  return (CERT_COMPONENTS as readonly string[]).includes(value);
}

function invalid(message: string, meta: Record<string, string>): SondeError {
  return new SondeError("SONDE_VALIDATION_FAILED", message, { meta });
}

/** A tenant slug by the contract's rule: it becomes a subject token, a key token and a path segment. */
export function assertTenantSlug(tenant: string): void {
  if (!slugSchema.safeParse(tenant).success) {
    throw invalid(`invalid tenant "${tenant}": use a-z, 0-9, '_' and '-' (at most 63)`, { field: "tenant" });
  }
}

/** Checks each part against the contract's rules; throws SONDE_VALIDATION_FAILED naming the part. */
export function assertIdentity(identity: SpiffeIdentity): SpiffeIdentity {
  assertTenantSlug(identity.tenant);
  if (!isCertComponent(identity.component)) {
    throw invalid(`invalid component "${String(identity.component)}": use ${CERT_COMPONENTS.join(", ")}`, {
      field: "component",
    });
  }
  if (!componentIdSchema.safeParse(identity.id).success) {
    throw invalid(`invalid id "${identity.id}": use letters, digits, '_' and '-' (at most 128)`, {
      field: "id",
    });
  }
  return identity;
}

export function spiffeId(identity: SpiffeIdentity): string {
  const { tenant, component, id } = assertIdentity(identity);
  return `spiffe://${TRUST_DOMAIN}/tenant/${tenant}/${component}/${id}`;
}

/** The identity named by a SPIFFE id, or undefined when the id is not exactly one of Sonde's. */
export function parseSpiffeId(uri: string): SpiffeIdentity | undefined {
  const m = SPIFFE_ID.exec(uri);
  if (m === null) return undefined;
  const [, tenant = "", component = "", id = ""] = m;
  if (!isCertComponent(component)) return undefined;
  if (!slugSchema.safeParse(tenant).success || !componentIdSchema.safeParse(id).success) return undefined;
  return { tenant, component, id };
}

/** The common name of a tenant's CA; leaf issuance and peer checks compare issuers against it. */
export function caCommonName(tenant: string): string {
  return `Sonde tenant ${tenant} CA`;
}
