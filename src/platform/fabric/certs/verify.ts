import type { PeerCertificate } from "node:tls";
import type { Logger } from "pino";
import { SondeError } from "../../../lib/errors.js";
import { certificateIdentity } from "./material.js";
import { type CertComponent, caCommonName, type SpiffeIdentity } from "./spiffe.js";
import * as x509 from "./x509.js";

/** Checks a TLS peer after the handshake; throws SONDE_PEER_REJECTED to refuse it. */
export type PeerCheck = (peer: PeerCertificate) => void;

export interface PeerCheckOptions {
  /** Refusals are logged here at warn: the reason, the peer's SPIFFE id and fingerprint, no key material. */
  readonly logger?: Logger;
  /** Clock for the validity check (tests). */
  readonly now?: () => Date;
}

function parsePeer(peer: PeerCertificate | undefined): x509.X509Certificate | undefined {
  // node gives `{}` (or null) for a peer without a certificate.
  const raw: unknown = peer?.raw;
  if (!(raw instanceof Uint8Array) || raw.length === 0) return undefined;
  try {
    return new x509.X509Certificate(raw);
  } catch {
    return undefined;
  }
}

function reasonFor(
  cert: x509.X509Certificate | undefined,
  identity: SpiffeIdentity | undefined,
  expectedTenant: string,
  allowed: readonly CertComponent[] | undefined,
  now: Date,
): string | undefined {
  if (cert === undefined) return "no client certificate";
  if (identity === undefined) return "the certificate carries no single Sonde SPIFFE id";
  if (identity.tenant !== expectedTenant) {
    return `the certificate names tenant ${identity.tenant}, this side serves tenant ${expectedTenant}`;
  }
  if (allowed !== undefined && !allowed.includes(identity.component)) {
    return `component ${identity.component} may not connect here (allowed: ${allowed.join(", ")})`;
  }
  // TLS checked the chain against the configured `ca`; this also holds when that bundle is wider.
  const issuer = cert.issuerName.getField("CN")[0];
  if (issuer !== caCommonName(expectedTenant)) {
    return `the certificate was issued by "${issuer ?? "?"}", not tenant ${expectedTenant}'s CA`;
  }
  if (cert.notBefore > now || cert.notAfter < now) return "the certificate is not valid now";
  return undefined;
}

/**
 * The post-handshake check of an mTLS peer (server: the client's certificate; client: the server's):
 * its SPIFFE id must name `expectedTenant` and, when given, one of `allowedComponents`. The chain to
 * the tenant's CA is TLS's job (give it only that CA as `ca`, with `requestCert` and
 * `rejectUnauthorized`); the issuer's name is checked here too, so a CA bundle holding several
 * tenants' CAs still cannot let tenant B's certificates in.
 */
export function verifyPeerTenant(
  expectedTenant: string,
  allowedComponents?: readonly CertComponent[],
  options: PeerCheckOptions = {},
): PeerCheck {
  return (peer) => {
    const cert = parsePeer(peer);
    const identity = cert === undefined ? undefined : certificateIdentity(cert);
    const now = options.now?.() ?? new Date();
    const reason = reasonFor(cert, identity, expectedTenant, allowedComponents, now);
    if (reason === undefined) return;
    const uri =
      identity === undefined ? undefined : `${identity.tenant}/${identity.component}/${identity.id}`;
    options.logger?.warn(
      { expectedTenant, peer: uri, fingerprint: peer?.fingerprint256, reason },
      "mTLS peer refused",
    );
    throw new SondeError("SONDE_PEER_REJECTED", `peer refused: ${reason}`, {
      meta: { expectedTenant, ...(uri === undefined ? {} : { peer: uri }) },
    });
  };
}

/** The SPIFFE identity of a connected peer, for logs and authorization after verifyPeerTenant passed. */
export function peerIdentity(peer: PeerCertificate | undefined): SpiffeIdentity | undefined {
  const cert = parsePeer(peer);
  return cert === undefined ? undefined : certificateIdentity(cert);
}
