/**
 * The JSON:API transport (https://jsonapi.org/format/1.0/), generated from the kernel's resource
 * declarations. Register with a prefix: `app.register(jsonApiRoutes, { prefix: "/api/v2", kernel,
 * resolveActor })`. Every route of the plugin negotiates content first (415/406), then
 * authenticates (401); the kernel authorises. Errors are thrown and formatted by the server shell;
 * this plugin only labels them with the JSON:API media type.
 */
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Actor } from "../../kernel/actor.js";
import type { Kernel } from "../../kernel/kernel.js";
import { isSondeError } from "../../lib/errors.js";
import { type ActorResolver, authenticate } from "../auth/actor.js";
import {
  assertAcceptable,
  assertRequestContentType,
  JSONAPI_MEDIA_TYPE,
  registerJsonApiParser,
} from "./content-type.js";
import { assertRepresentable } from "./fields.js";
import { registerRelatedRoutes } from "./related-routes.js";
import { registerResourceRoutes } from "./resource-routes.js";
import type { Deps } from "./respond.js";

export interface JsonApiRoutesOptions {
  readonly kernel: Kernel;
  /** Turns a request's credentials into an actor; null means unauthenticated (401). */
  readonly resolveActor: ActorResolver;
}

const WITH_BODY = new Set(["POST", "PATCH", "PUT", "DELETE"]);

export const jsonApiRoutes: FastifyPluginAsync<JsonApiRoutesOptions> = async (app, opts) => {
  const resources = [...opts.kernel.resources.values()];
  // Fail at start-up, not on the first request, for a declaration JSON:API cannot represent.
  for (const r of resources) assertRepresentable(r);

  registerJsonApiParser(app);
  const actors = new WeakMap<FastifyRequest, Actor>();

  app.addHook("onRequest", async (request, reply) => {
    assertAcceptable(request);
    if (WITH_BODY.has(request.method)) assertRequestContentType(request);
    try {
      actors.set(request, await authenticate(request, opts.resolveActor));
    } catch (err) {
      // RFC 9110 §15.5.2: a 401 names the scheme the client should use.
      if (isSondeError(err, "SONDE_UNAUTHENTICATED"))
        void reply.header("www-authenticate", 'Bearer realm="sonde"');
      throw err;
    }
  });

  // JSON:API 1.0 requires its media type without parameters on every response, errors included. The
  // shell's error handler writes application/json, and Fastify appends `; charset=utf-8` to any JSON
  // type on serialisation, so the header is settled here, after both.
  app.addHook("onSend", async (_request, reply, payload) => {
    const type = reply.getHeader("content-type");
    if (typeof type === "string" && /^application\/(json|vnd\.api\+json)\b/.test(type)) {
      void reply.header("content-type", JSONAPI_MEDIA_TYPE);
    }
    return payload;
  });

  const deps: Deps = { kernel: opts.kernel, actors, prefix: app.prefix };
  for (const resource of resources) {
    registerResourceRoutes(app, deps, resource);
    registerRelatedRoutes(app, deps, resource);
  }
};
