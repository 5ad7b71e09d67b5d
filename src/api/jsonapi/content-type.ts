/**
 * Content negotiation of JSON:API 1.0 (https://jsonapi.org/format/1.0/#content-negotiation):
 * - a request body must be sent as `application/vnd.api+json` without media type parameters
 *   (parameters → 415; any other media type → 415 as well, since only JSON:API documents are read);
 * - when `Accept` names the JSON:API media type and every instance of it carries media type
 *   parameters, the server cannot answer in a form the client accepts → 406.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { SondeError } from "../../lib/errors.js";

export const JSONAPI_MEDIA_TYPE = "application/vnd.api+json";

interface MediaType {
  readonly type: string;
  /** Media type parameters: those before `q` (RFC 9110 §12.5.1; what follows `q` are accept-ext). */
  readonly params: readonly string[];
}

function parseMediaType(text: string): MediaType {
  const [type = "", ...rest] = text.split(";").map((s) => s.trim());
  const params: string[] = [];
  for (const p of rest) {
    if (p === "") continue;
    if (/^q\s*=/i.test(p)) break;
    params.push(p);
  }
  return { type: type.toLowerCase(), params };
}

/** 415 unless the body is declared as a plain `application/vnd.api+json`. */
export function assertRequestContentType(request: FastifyRequest): void {
  const header = request.headers["content-type"];
  if (header === undefined) {
    if (hasBody(request)) {
      throw new SondeError("SONDE_UNSUPPORTED_MEDIA_TYPE", `send the request body as ${JSONAPI_MEDIA_TYPE}`);
    }
    return;
  }
  const media = parseMediaType(header);
  if (media.type !== JSONAPI_MEDIA_TYPE) {
    throw new SondeError(
      "SONDE_UNSUPPORTED_MEDIA_TYPE",
      `the request body is ${media.type || "of no type"}; send ${JSONAPI_MEDIA_TYPE}`,
    );
  }
  if (media.params.length > 0) {
    throw new SondeError(
      "SONDE_UNSUPPORTED_MEDIA_TYPE",
      `${JSONAPI_MEDIA_TYPE} must be sent without media type parameters (got ${media.params.join("; ")})`,
    );
  }
}

/** 406 when Accept names the JSON:API media type only with parameters. */
export function assertAcceptable(request: FastifyRequest): void {
  const header = request.headers.accept;
  if (header === undefined) return;
  const jsonApi = header
    .split(",")
    .map(parseMediaType)
    .filter((m) => m.type === JSONAPI_MEDIA_TYPE);
  if (jsonApi.length > 0 && jsonApi.every((m) => m.params.length > 0)) {
    throw new SondeError(
      "SONDE_NOT_ACCEPTABLE",
      `every ${JSONAPI_MEDIA_TYPE} in Accept carries media type parameters; accept it without them`,
    );
  }
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return request.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * Reads `application/vnd.api+json` bodies with Fastify's own JSON parser (prototype-poisoning
 * protection included), in the calling plugin's scope only.
 */
export function registerJsonApiParser(app: FastifyInstance): void {
  app.addContentTypeParser(
    JSONAPI_MEDIA_TYPE,
    { parseAs: "string" },
    app.getDefaultJsonParser("error", "error"),
  );
}
