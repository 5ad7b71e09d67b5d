import { SondeError } from "../../../lib/errors.js";
import { CA_FILES, LEAF_FILES, readMaterial } from "./files.js";
import { type LoadedCa, loadCa } from "./issue.js";
import { importPrivateKey, keysMatch } from "./keys.js";
import { type SpiffeIdentity, parseSpiffeId } from "./spiffe.js";
import * as x509 from "./x509.js";

/** What the gRPC server and client take for mTLS: PEM strings, as node:tls wants them. */
export interface TlsMaterial {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface LoadedTlsMaterial extends TlsMaterial {
  /** Who the certificate says this component is. */
  readonly identity: SpiffeIdentity;
  readonly notAfter: Date;
}

/** The SPIFFE identity in a certificate's URI SANs: exactly one URI, and one of Sonde's; else undefined. */
export function certificateIdentity(cert: x509.X509Certificate): SpiffeIdentity | undefined {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san?.names.items.filter((n) => n.type === "url") ?? [];
  const [only] = uris;
  return uris.length === 1 && only !== undefined ? parseSpiffeId(only.value) : undefined;
}

/**
 * Loads `ca.crt`, `tls.crt` and `tls.key` from a component's directory and checks that they fit: the
 * certificate names a Sonde identity and was issued by that tenant's CA, and the key is its key.
 */
export async function loadTlsMaterial(dir: string): Promise<LoadedTlsMaterial> {
  const ca = readMaterial(dir, LEAF_FILES.ca);
  const cert = readMaterial(dir, LEAF_FILES.cert);
  const key = readMaterial(dir, LEAF_FILES.key);
  let parsed: x509.X509Certificate;
  let caCert: x509.X509Certificate;
  try {
    parsed = new x509.X509Certificate(cert);
    caCert = new x509.X509Certificate(ca);
  } catch (err) {
    throw new SondeError("SONDE_TLS_MATERIAL_INVALID", `${dir}: tls.crt or ca.crt is not a PEM certificate`, {
      meta: { dir },
      cause: err,
    });
  }
  const identity = certificateIdentity(parsed);
  if (identity === undefined) {
    throw new SondeError("SONDE_TLS_MATERIAL_INVALID", `${dir}/tls.crt carries no Sonde SPIFFE id`, {
      meta: { dir },
    });
  }
  if (!(await parsed.verify({ publicKey: caCert, signatureOnly: true }))) {
    throw new SondeError("SONDE_TLS_MATERIAL_INVALID", `${dir}/tls.crt was not issued by ${dir}/ca.crt`, {
      meta: { dir },
    });
  }
  const privateKey = await importPrivateKey(key, `${dir}/tls.key`);
  if (!(await keysMatch(privateKey, await parsed.publicKey.export()))) {
    throw new SondeError("SONDE_TLS_MATERIAL_INVALID", `${dir}/tls.key does not belong to tls.crt`, {
      meta: { dir },
    });
  }
  return { ca, cert, key, identity, notAfter: parsed.notAfter };
}

/** Loads and checks a tenant's CA directory (`ca.crt`, `ca.key`) for issuing. */
export async function loadCaDir(dir: string, tenant: string): Promise<LoadedCa> {
  return await loadCa(
    { certPem: readMaterial(dir, CA_FILES.cert), keyPem: readMaterial(dir, CA_FILES.key) },
    tenant,
  );
}
