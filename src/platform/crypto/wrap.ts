import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/**
 * Wrapping data keys under the key-encryption key (KEK). The KEK is derived from SONDE_SECRET with
 * HKDF-SHA256 (info `sonde/kek/v1`) and a random salt stored with each wrapped key, so no two keys
 * share a KEK and the secret itself never touches a cipher. The wrap is AES-256-GCM with the key id as
 * additional data: a wrapped key moved to another row does not unwrap.
 *
 * HKDF is a key-derivation function, not a password hash: SONDE_SECRET must be random (the generated
 * one is 32 random bytes; `openssl rand -base64 48` for PostgreSQL installs).
 */

const KEK_INFO = "sonde/kek/v1";
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const DATA_KEY_BYTES = 32;

function kek(secret: string, salt: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", Buffer.from(secret, "utf8"), salt, KEK_INFO, 32));
}

function keyAad(keyId: string): Buffer {
  return Buffer.from(`sonde/key/${keyId}`, "utf8");
}

/** `v1.<salt>.<iv>.<ciphertext+tag>`, each base64url. */
export function wrapKey(secret: string, keyId: string, key: Buffer): string {
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", kek(secret, salt), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(keyAad(keyId));
  const sealed = Buffer.concat([cipher.update(key), cipher.final(), cipher.getAuthTag()]);
  return ["v1", salt, iv, sealed].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
}

/**
 * The data key, or undefined when the wrap does not authenticate under this secret: the one signal
 * that SONDE_SECRET is not the secret the keys were created with (callers say so, never the secret).
 */
export function unwrapKey(secret: string, keyId: string, wrapped: string): Buffer | undefined {
  const [version, salt, iv, sealed] = wrapped.split(".");
  if (version !== "v1" || salt === undefined || iv === undefined || sealed === undefined) return undefined;
  const body = Buffer.from(sealed, "base64url");
  if (body.length !== DATA_KEY_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv(
      "aes-256-gcm",
      kek(secret, Buffer.from(salt, "base64url")),
      Buffer.from(iv, "base64url"),
      {
        authTagLength: TAG_BYTES,
      },
    );
    decipher.setAAD(keyAad(keyId));
    decipher.setAuthTag(body.subarray(DATA_KEY_BYTES));
    return Buffer.concat([decipher.update(body.subarray(0, DATA_KEY_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
