/**
 * What every JSON:API handler shares: the request's actor and serializer, the documents for one
 * record and for a page of records, and the choice of which declared action a plain verb runs.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Actor } from "../../kernel/actor.js";
import type { Kernel, Rec } from "../../kernel/kernel.js";
import type { ActionContext } from "../../kernel/pipeline/authorize.js";
import type { ActionType, AnyResource } from "../../kernel/resource/types.js";
import { SondeError } from "../../lib/errors.js";
import { JSONAPI_MEDIA_TYPE } from "./content-type.js";
import { compound } from "./include.js";
import type { DocumentOptions } from "./query.js";
import { JSONAPI_OBJECT, Serializer } from "./serialize.js";

export interface Deps {
  readonly kernel: Kernel;
  /** The actor of each authenticated request (set by the plugin's onRequest hook). */
  readonly actors: WeakMap<FastifyRequest, Actor>;
  /** The plugin's route prefix (`/api/v2`), for absolute links. */
  readonly prefix: string;
}

export interface RequestScope {
  readonly ctx: ActionContext;
  readonly base: string;
  /** The request's own URL, absolute, with its query re-encoded (brackets escaped, RFC 3986). */
  readonly self: URL;
}

export function scope(deps: Deps, request: FastifyRequest): RequestScope {
  const actor = deps.actors.get(request);
  if (actor === undefined) {
    // The onRequest hook authenticates every route of the plugin; reaching here without an actor is a bug.
    throw new SondeError("SONDE_INTERNAL", "request reached a JSON:API handler unauthenticated");
  }
  // Through URL so that links agree on the form of the origin (a default port is dropped).
  const origin = new URL(`${request.protocol}://${request.host}`).origin;
  const self = new URL(request.url, origin);
  self.search = new URLSearchParams(self.search).toString();
  return { ctx: { actor }, base: `${origin}${deps.prefix}`, self };
}

export function send(reply: FastifyReply, status: number, document: object): FastifyReply {
  return reply.status(status).type(JSONAPI_MEDIA_TYPE).send(document);
}

/** A document whose primary data is one record (with its included records). */
export async function recordDocument(
  deps: Deps,
  s: RequestScope,
  resource: AnyResource,
  record: Rec,
  options: DocumentOptions,
): Promise<{ document: object; self: string }> {
  const serializer = new Serializer(s.base, options.fields);
  const c = await compound(deps.kernel, s.ctx, resource, [record], options.include);
  const [primary] = c.primary;
  if (primary === undefined) throw new SondeError("SONDE_INTERNAL", "record vanished while serialising");
  const data = serializer.resourceObject(primary);
  return {
    self: data.links.self,
    document: {
      jsonapi: JSONAPI_OBJECT,
      data,
      ...(options.include.length > 0 ? { included: serializer.included(c.primary, c.included) } : {}),
      links: { self: s.self.toString() },
    },
  };
}

/** A document whose primary data is a page of records; `next` keeps every other parameter. */
export async function pageDocument(
  deps: Deps,
  s: RequestScope,
  resource: AnyResource,
  page: { records: Rec[]; nextCursor: string | null },
  options: DocumentOptions,
  pageNumber: number | undefined,
): Promise<object> {
  const serializer = new Serializer(s.base, options.fields);
  const c = await compound(deps.kernel, s.ctx, resource, page.records, options.include);
  let next: string | null = null;
  if (page.nextCursor !== null) {
    const url = new URL(s.self);
    const params = new URLSearchParams(url.search);
    if (pageNumber !== undefined) params.set("page[number]", String(pageNumber + 1));
    else params.set("page[after]", page.nextCursor);
    url.search = params.toString();
    next = url.toString();
  }
  return {
    jsonapi: JSONAPI_OBJECT,
    data: c.primary.map((p) => serializer.resourceObject(p)),
    ...(options.include.length > 0 ? { included: serializer.included(c.primary, c.included) } : {}),
    links: { self: s.self.toString(), next },
  };
}

/**
 * The action a plain verb (POST, PATCH, DELETE) runs: the one named after its type, else the only
 * other of that type that is neither a custom route nor a state transition nor an upsert. Named
 * explicitly for the kernel, whose own default could otherwise pick a transition for PATCH.
 */
export function plainAction(resource: AnyResource, type: Exclude<ActionType, "read">): string | undefined {
  const named = resource.actions.get(type);
  if (named?.type === type) return named.name;
  const candidates = [...resource.actions.values()].filter(
    (a) =>
      a.type === type &&
      a.route === undefined &&
      a.upsertIdentity === undefined &&
      !resource.transitionsByAction.has(a.name),
  );
  return candidates.length === 1 ? candidates[0]?.name : undefined;
}
