import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SondeError } from "../../lib/errors.js";

/**
 * The envelope of one encrypted value: a self-describing string that names its format and its key,
 *
 *   enc:v1:<key id>:<iv, base64url>:<ciphertext and 16-byte GCM tag, base64url>
 *
 * AES-256-GCM with a fresh random 12-byte IV per value. The additional authenticated data is the
 * envelope's header plus the place the value belongs to (`<table>.<column>`), so a value copied into
 * another column, or relabelled with another key id, fails authentication instead of decrypting.
 * Pure: keys come from the keyring (keyring.ts).
 */

export const ENVELOPE_PREFIX = "enc:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Key ids never contain the separator, so the envelope splits unambiguously. */
export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const B64URL = /^[A-Za-z0-9_-]+$/;

export interface Envelope {
  readonly keyId: string;
  readonly iv: Buffer;
  /** Ciphertext followed by the GCM tag. */
  readonly sealed: Buffer;
}

/** The envelope's parts, or undefined when the string is not a v1 envelope. */
export function parseEnvelope(value: string): Envelope | undefined {
  if (!value.startsWith(ENVELOPE_PREFIX)) return undefined;
  const parts = value.slice(ENVELOPE_PREFIX.length).split(":");
  if (parts.length !== 3) return undefined;
  const [keyId, iv, sealed] = parts as [string, string, string];
  if (!KEY_ID.test(keyId) || !B64URL.test(iv) || !B64URL.test(sealed)) return undefined;
  const ivBytes = Buffer.from(iv, "base64url");
  const sealedBytes = Buffer.from(sealed, "base64url");
  if (ivBytes.length !== IV_BYTES || sealedBytes.length < TAG_BYTES) return undefined;
  return { keyId, iv: ivBytes, sealed: sealedBytes };
}

/** The key id an envelope names (undefined when it is not an envelope). */
export function envelopeKeyId(value: string): string | undefined {
  return parseEnvelope(value)?.keyId;
}

function authenticated(keyId: string, aad: string): Buffer {
  // NUL cannot occur in a key id, so header and location cannot be shifted into one another.
  return Buffer.from(`${ENVELOPE_PREFIX}${keyId}\u0000${aad}`, "utf8");
}

/** Encrypts `plaintext` under `key` (32 bytes) as a v1 envelope naming `keyId`, bound to `aad`. */
export function sealValue(key: Buffer, keyId: string, plaintext: string, aad: string): string {
  if (!KEY_ID.test(keyId)) throw new SondeError("SONDE_INTERNAL", "invalid encryption key id");
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(authenticated(keyId, aad));
  const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `${ENVELOPE_PREFIX}${keyId}:${iv.toString("base64url")}:${sealed.toString("base64url")}`;
}

/**
 * Decrypts an envelope. Any failure (tampered ciphertext, tag or header, another location, another
 * key) is SONDE_DECRYPTION_FAILED; the message never quotes the value, the plaintext or the key.
 */
export function openValue(key: Buffer, envelope: Envelope, aad: string): string {
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, envelope.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(authenticated(envelope.keyId, aad));
    // GCM verifies the tag in constant time inside OpenSSL; final() throws when it does not match.
    decipher.setAuthTag(envelope.sealed.subarray(envelope.sealed.length - TAG_BYTES));
    const body = envelope.sealed.subarray(0, envelope.sealed.length - TAG_BYTES);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
  } catch {
    throw decryptionFailed(envelope.keyId);
  }
}

/** `unknownKey`: the envelope names a key the keyring does not hold (yet: reload and try again). */
export function decryptionFailed(
  keyId: string | undefined,
  why = "it does not authenticate",
  unknownKey = false,
): SondeError {
  return new SondeError("SONDE_DECRYPTION_FAILED", `an encrypted value could not be decrypted: ${why}`, {
    meta: { ...(keyId === undefined ? {} : { keyId }), ...(unknownKey ? { unknownKey } : {}) },
  });
}
