/**
 * Mounts better-auth's own routes (`/api/auth/*`: sign-up, sign-in, sign-out, sessions, API keys)
 * by forwarding each request to its Fetch handler and copying the response back. better-auth
 * answers its own errors; nothing here interprets credentials.
 */
import type { FastifyPluginAsync } from "fastify";
import { AUTH_BASE_PATH, type Auth } from "../../domains/identity/auth.js";
import { fetchHeaders } from "./fetch.js";

export interface AuthRoutesOptions {
  readonly auth: Auth;
  /** Origin of the URL better-auth sees (the public URL): it builds links and cookies from it. */
  readonly publicUrl: string;
}

const WITHOUT_BODY = new Set(["GET", "HEAD"]);

export const authRoutes: FastifyPluginAsync<AuthRoutesOptions> = async (app, opts) => {
  // better-auth parses bodies itself: keep them as bytes in this plugin's scope (encapsulated, so
  // the JSON:API parsers elsewhere are untouched).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  app.route({
    method: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    url: `${AUTH_BASE_PATH}/*`,
    handler: async (request, reply) => {
      const body = request.body;
      const init: RequestInit = { method: request.method, headers: fetchHeaders(request) };
      if (!WITHOUT_BODY.has(request.method) && Buffer.isBuffer(body)) init.body = new Uint8Array(body);
      const response = await opts.auth.handler(new Request(new URL(request.url, opts.publicUrl), init));

      void reply.status(response.status);
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie" && name !== "content-length") void reply.header(name, value);
      });
      // Several cookies come back as several headers; Headers#get would join them with commas.
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) void reply.header("set-cookie", cookies);
      return reply.send(Buffer.from(await response.arrayBuffer()));
    },
  });
};
