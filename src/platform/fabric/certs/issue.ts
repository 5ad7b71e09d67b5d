import { isIP } from "node:net";
import { webcrypto } from "node:crypto";
import { SondeError } from "../../../lib/errors.js";
import { generateKeyPair, importPrivateKey, KEY_ALGORITHM, keysMatch, privateKeyPem } from "./keys.js";
import { assertTenantSlug, caCommonName, type SpiffeIdentity, spiffeId } from "./spiffe.js";
import * as x509 from "./x509.js";

/** A certificate and its private key, both PEM. */
export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssuedCert extends PemPair {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface ValidityOptions {
  /** Days from `validFrom` to expiry. */
  readonly days: number;
  /** Start of validity; default five minutes ago, so peers with a slightly slow clock accept it. */
  readonly validFrom?: Date;
}

const DAY_MS = 86_400_000;
const CLOCK_SKEW_MS = 5 * 60_000;

/** PEM text ending in a newline, so that files and concatenated CA bundles stay well-formed. */
function pemText(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}
/** A hostname for a DNS SAN: dot-separated labels, no wildcards (each server names itself). */
const DNS_NAME =
  /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;

function validity(opts: ValidityOptions): { notBefore: Date; notAfter: Date } {
  if (!Number.isInteger(opts.days) || opts.days < 1 || opts.days > 36_500) {
    throw new SondeError(
      "SONDE_VALIDATION_FAILED",
      "validity must be a whole number of days from 1 to 36500",
      {
        meta: { field: "days" },
      },
    );
  }
  const notBefore = opts.validFrom ?? new Date(Date.now() - CLOCK_SKEW_MS);
  return { notBefore, notAfter: new Date(notBefore.getTime() + opts.days * DAY_MS) };
}

/** 16 random bytes, the top bit cleared so that the DER integer stays positive. */
function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

/**
 * A tenant's CA: self-signed, path length 0 (it signs leaves only), key usage keyCertSign and cRLSign,
 * and a common name that names the tenant.
 */
export async function issueCa(opts: ValidityOptions & { readonly tenant: string }): Promise<IssuedCert> {
  assertTenantSlug(opts.tenant);
  const { notBefore, notAfter } = validity(opts);
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [caCommonName(opts.tenant)] }, { O: ["Sonde"] }],
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: pemText(cert.toString("pem")),
    keyPem: pemText(await privateKeyPem(keys.privateKey)),
    notBefore,
    notAfter,
  };
}

/** A tenant's CA, checked to be one (CA flag, the tenant's name) and to match its key. */
export interface LoadedCa {
  readonly tenant: string;
  readonly cert: x509.X509Certificate;
  readonly key: webcrypto.CryptoKey;
}

function tlsInvalid(message: string, meta: Record<string, string>): SondeError {
  return new SondeError("SONDE_TLS_MATERIAL_INVALID", message, { meta });
}

export async function loadCa(pair: PemPair, tenant: string, now = new Date()): Promise<LoadedCa> {
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(pair.certPem);
  } catch (err) {
    throw new SondeError("SONDE_TLS_MATERIAL_INVALID", "the CA certificate is not a PEM certificate", {
      meta: { file: "ca.crt" },
      cause: err,
    });
  }
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (constraints?.ca !== true) throw tlsInvalid("the CA certificate is not a CA", { file: "ca.crt" });
  const cn = cert.subjectName.getField("CN")[0];
  if (cn !== caCommonName(tenant)) {
    throw tlsInvalid(`the CA is "${cn ?? "?"}", not tenant ${tenant}'s CA: issue from that tenant's CA`, {
      tenant,
    });
  }
  if (cert.notAfter <= now) {
    throw tlsInvalid(`tenant ${tenant}'s CA expired on ${cert.notAfter.toISOString()}`, { tenant });
  }
  const key = await importPrivateKey(pair.keyPem, "ca.key");
  if (!(await keysMatch(key, await cert.publicKey.export()))) {
    throw tlsInvalid("ca.key does not belong to ca.crt", { file: "ca.key" });
  }
  return { tenant, cert, key };
}

/** SAN entries for the hosts a server answers on: IP addresses as IP SANs, names as DNS SANs. */
export function hostNames(hosts: readonly string[]): x509.JsonGeneralName[] {
  return hosts.map((host) => {
    if (isIP(host) !== 0) return { type: "ip", value: host };
    if (!DNS_NAME.test(host)) {
      throw new SondeError(
        "SONDE_VALIDATION_FAILED",
        `invalid host "${host}": use a DNS name or an IP address`,
        {
          meta: { field: "host" },
        },
      );
    }
    return { type: "dns", value: host.toLowerCase() };
  });
}

export interface LeafOptions extends ValidityOptions {
  readonly ca: LoadedCa;
  readonly identity: SpiffeIdentity;
  /** DNS names and IP addresses the component serves on (servers); none for a pure client. */
  readonly hosts: readonly string[];
}

/**
 * A component's certificate: exactly one URI SAN (its SPIFFE id), the given hosts, serverAuth and
 * clientAuth (agents serve, pollers call, either may be both), signed by its tenant's CA and never
 * outliving it.
 */
export async function issueLeaf(opts: LeafOptions): Promise<IssuedCert & { readonly spiffeId: string }> {
  const uri = spiffeId(opts.identity);
  if (opts.identity.tenant !== opts.ca.tenant) {
    throw tlsInvalid(`tenant ${opts.identity.tenant}'s certificate must come from its own CA`, {
      tenant: opts.identity.tenant,
    });
  }
  const names = hostNames(opts.hosts);
  const { notBefore, notAfter } = validity(opts);
  if (notAfter > opts.ca.cert.notAfter) {
    throw tlsInvalid(
      `the certificate would outlive its CA (${opts.ca.cert.notAfter.toISOString()}): ask for fewer days or renew the CA`,
      { tenant: opts.ca.tenant },
    );
  }
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [
      { CN: [`${opts.identity.component} ${opts.identity.id}`] },
      { O: ["Sonde"] },
      { OU: [opts.identity.tenant] },
    ],
    issuer: opts.ca.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: opts.ca.key,
    signingAlgorithm: KEY_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: uri }, ...names], false),
      await x509.AuthorityKeyIdentifierExtension.create(opts.ca.cert, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: pemText(cert.toString("pem")),
    keyPem: pemText(await privateKeyPem(keys.privateKey)),
    notBefore,
    notAfter,
    spiffeId: uri,
  };
}
