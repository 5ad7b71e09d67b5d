/**
 * Rules for credentials that both configuration (which validates SONDE_ADMIN_* at start) and
 * identity (better-auth's settings) must agree on. They live here, in the lowest layer, so that a
 * password or token the configuration accepts is one better-auth and the API accept too.
 */

/** Shown at the start of every API token, so that leaked tokens are recognisable (secret scanners). */
export const API_TOKEN_PREFIX = "sonde_";

/** Shortest API token an operator may supply (SONDE_ADMIN_TOKEN); generated ones are longer. */
export const API_TOKEN_MIN_LENGTH = 32;

/**
 * An operator-supplied token must survive `Authorization: Bearer …` unchanged: the characters of
 * RFC 6750's b64token (which the bearer parser in src/api/auth/actor.ts accepts), after the prefix.
 */
export const API_TOKEN_PATTERN = /^sonde_[A-Za-z0-9\-._~+/]+=*$/;

/** better-auth's minPasswordLength and maxPasswordLength (src/domains/identity/auth.ts). */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;
