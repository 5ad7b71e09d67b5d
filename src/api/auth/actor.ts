/**
 * The authentication seam of the HTTP APIs: a request comes in, an actor (or nobody) comes out.
 * Transports never look at tokens or cookies themselves; they ask an `ActorResolver`. The identity
 * domain provides the real resolver (API tokens and sessions); tests use one that maps fixed tokens
 * to fixture actors. Deny by default: no actor, no access.
 */
import type { FastifyRequest } from "fastify";
import type { Actor } from "../../kernel/actor.js";
import { SondeError } from "../../lib/errors.js";

/** Resolves the request's credentials (bearer token or session cookie) to an actor, or null. */
export type ActorResolver = (request: FastifyRequest) => Promise<Actor | null>;

// RFC 6750 §2.1: `Bearer` followed by one b64token (token68 in RFC 7235 terms).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The bearer token of the request, or undefined when there is no Authorization header. A header that
 * is present but not a well-formed bearer credential is refused outright rather than ignored: falling
 * back to the session cookie would hide a client's mistake.
 */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = BEARER.exec(header);
  if (match?.[1] === undefined) {
    throw new SondeError(
      "SONDE_UNAUTHENTICATED",
      "the Authorization header is malformed: expected `Authorization: Bearer <token>`",
    );
  }
  return match[1];
}

/** The request's actor; 401 when the credentials are malformed, unknown or missing. */
export async function authenticate(request: FastifyRequest, resolve: ActorResolver): Promise<Actor> {
  // Checked before the resolver runs so that every resolver refuses malformed headers alike.
  const token = bearerToken(request);
  const actor = await resolve(request);
  if (actor === null) {
    throw new SondeError(
      "SONDE_UNAUTHENTICATED",
      token === undefined
        ? "authentication required: send `Authorization: Bearer <token>` or sign in for a session"
        : "the bearer token is not valid",
    );
  }
  return actor;
}
