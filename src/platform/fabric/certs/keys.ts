import { webcrypto } from "node:crypto";
import { SondeError } from "../../../lib/errors.js";
import { PemConverter } from "./x509.js";

/** Every key of the fabric is ECDSA P-256 signing with SHA-256 (WebCrypto, as @peculiar/x509 uses). */
export const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

const subtle = webcrypto.subtle;

export function generateKeyPair(): Promise<webcrypto.CryptoKeyPair> {
  return subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"]);
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which node:tls reads as it is. */
export async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return PemConverter.encode(await subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** Imports a PKCS#8 PEM private key; the error names the file's role, never its content. */
export async function importPrivateKey(pem: string, what: string): Promise<webcrypto.CryptoKey> {
  try {
    const [der] = PemConverter.decodeWithHeaders(pem).filter((p) => p.type === "PRIVATE KEY");
    if (der === undefined) throw new Error("no PRIVATE KEY block");
    return await subtle.importKey("pkcs8", der.rawData, KEY_ALGORITHM, true, ["sign"]);
  } catch (err) {
    throw new SondeError("SONDE_TLS_MATERIAL_INVALID", `${what} is not a PKCS#8 ECDSA P-256 private key`, {
      meta: { file: what },
      cause: err,
    });
  }
}

/** Whether a private key belongs to a public key (compares the curve points). */
export async function keysMatch(
  privateKey: webcrypto.CryptoKey,
  publicKey: webcrypto.CryptoKey,
): Promise<boolean> {
  const a = await subtle.exportKey("jwk", privateKey);
  const b = await subtle.exportKey("jwk", publicKey);
  return a.x === b.x && a.y === b.y && a.crv === b.crv;
}
