/**
 * The secrets identity hands out (API tokens, invitation links): 256 random bits, stored only as a
 * SHA-256. A plain hash is enough for secrets of this entropy (nothing to brute-force); passwords, which
 * people choose, go through better-auth's scrypt instead. Comparisons of hashes are constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { API_TOKEN_PREFIX } from "../../lib/credentials.js";

/** Characters of a token shown to users to tell tokens apart: `sonde_` and six more. */
export const TOKEN_SHOWN_LENGTH = API_TOKEN_PREFIX.length + 6;

/** A new secret: `prefix` + 43 characters of base64url (256 bits). */
export function generateSecret(prefix = ""): string {
  return `${prefix}${randomBytes(32).toString("base64url")}`;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Compares two hex digests in constant time (false when either is malformed). */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y);
}

/** An API token: the secret, its stored hash and the part shown to users. */
export function newApiToken(): { token: string; hash: string; prefix: string } {
  const token = generateSecret(API_TOKEN_PREFIX);
  return { token, hash: hashSecret(token), prefix: token.slice(0, TOKEN_SHOWN_LENGTH) };
}
