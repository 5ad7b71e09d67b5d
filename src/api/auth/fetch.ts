import type { FastifyRequest } from "fastify";
import { CLIENT_IP_HEADER } from "../../domains/identity/auth.js";

/**
 * The request's headers as Fetch `Headers`, for better-auth. The client address is set from what
 * Fastify determined and any value the client sent for that header is dropped, so that better-auth's
 * rate limits key on the real address.
 */
export function fetchHeaders(request: FastifyRequest): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined || name === CLIENT_IP_HEADER) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  headers.set(CLIENT_IP_HEADER, request.ip);
  return headers;
}
