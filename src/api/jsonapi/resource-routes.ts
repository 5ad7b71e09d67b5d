/**
 * The routes of one resource, derived from its declaration: list and get (its read action), create,
 * update and delete (its plain create/update/destroy actions, when declared), and one POST route per
 * update/destroy action that declares a `route`. Handlers parse, call the kernel, serialise: the
 * kernel decides everything else.
 */
import type { FastifyInstance } from "fastify";
import type { AnyResource } from "../../kernel/resource/types.js";
import { parseDocument, type RelatedType } from "./document.js";
import { parseQuery } from "./query.js";
import { type Deps, pageDocument, plainAction, recordDocument, scope, send } from "./respond.js";

export interface IdParams {
  readonly id: string;
}

type Query = Readonly<Record<string, unknown>>;

export function registerResourceRoutes(app: FastifyInstance, deps: Deps, resource: AnyResource): void {
  const { kernel } = deps;
  const collection = `/${resource.type}`;
  const member = `${collection}/:id`;
  const relatedType: RelatedType = (name) => kernel.related(resource, name).type;

  app.get(collection, async (request, reply) => {
    const s = scope(deps, request);
    const q = parseQuery(kernel, resource, request.query as Query, "collection");
    const page = await kernel.list(resource, s.ctx, q.list);
    return send(reply, 200, await pageDocument(deps, s, resource, page, q, q.list.page?.number));
  });

  app.get<{ Params: IdParams }>(member, async (request, reply) => {
    const s = scope(deps, request);
    const q = parseQuery(kernel, resource, request.query as Query, "single");
    const record = await kernel.get(resource, s.ctx, request.params.id, { aggregates: q.aggregates });
    return send(reply, 200, (await recordDocument(deps, s, resource, record, q)).document);
  });

  const create = plainAction(resource, "create");
  if (create !== undefined) {
    const clientIds = resource.actions.get(create)?.accept?.includes(resource.primaryKey as never) === true;
    app.post(collection, async (request, reply) => {
      const s = scope(deps, request);
      const q = parseQuery(kernel, resource, request.query as Query, "single");
      const input = parseDocument(resource, request.body, { kind: "create", clientIds }, relatedType);
      const out = actionOutput();
      const record = await kernel.create(resource, s.ctx, input.attributes, {
        action: create,
        arguments: input.arguments,
        output: out.receive,
      });
      const { document, self } = await recordDocument(deps, s, resource, record, q);
      void reply.header("location", self);
      // A generated secret is shown here once: no cache may keep it.
      if (out.meta !== undefined) void reply.header("cache-control", "no-store");
      return send(reply, 201, out.with(document));
    });
  }

  const update = plainAction(resource, "update");
  if (update !== undefined) {
    app.patch<{ Params: IdParams }>(member, async (request, reply) => {
      const s = scope(deps, request);
      const q = parseQuery(kernel, resource, request.query as Query, "single");
      const id = request.params.id;
      const input = parseDocument(resource, request.body, { kind: "update", id }, relatedType);
      const record = await kernel.update(resource, s.ctx, id, input.attributes, {
        action: update,
        arguments: input.arguments,
      });
      return send(reply, 200, (await recordDocument(deps, s, resource, record, q)).document);
    });
  }

  const destroy = plainAction(resource, "destroy");
  if (destroy !== undefined) {
    app.delete<{ Params: IdParams }>(member, async (request, reply) => {
      const s = scope(deps, request);
      parseQuery(kernel, resource, request.query as Query, "none");
      await kernel.destroy(resource, s.ctx, request.params.id, { action: destroy });
      return reply.status(204).send();
    });
  }

  for (const action of resource.actions.values()) {
    if (action.route === undefined || (action.type !== "update" && action.type !== "destroy")) continue;
    const name = action.name;
    const type = action.type;
    app.post<{ Params: IdParams }>(`${member}/${action.route}`, async (request, reply) => {
      const s = scope(deps, request);
      const id = request.params.id;
      const q = parseQuery(kernel, resource, request.query as Query, type === "update" ? "single" : "none");
      const input = parseDocument(resource, request.body, { kind: "action", id }, relatedType);
      if (type === "destroy") {
        await kernel.destroy(resource, s.ctx, id, { action: name, arguments: input.arguments });
        return reply.status(204).send();
      }
      const out = actionOutput();
      const record = await kernel.update(resource, s.ctx, id, input.attributes, {
        action: name,
        arguments: input.arguments,
        output: out.receive,
      });
      return send(reply, 200, out.with((await recordDocument(deps, s, resource, record, q)).document));
    });
  }
}

/** Collects what an action outputs (ActionSpec.output) into the document's top-level `meta`. */
function actionOutput() {
  const out = {
    meta: undefined as Record<string, unknown> | undefined,
    receive: (values: Record<string, unknown>) => {
      if (Object.keys(values).length > 0) out.meta = values;
    },
    with: (document: object): object => (out.meta === undefined ? document : { ...document, meta: out.meta }),
  };
  return out;
}
