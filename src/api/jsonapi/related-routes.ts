/**
 * Routes below one record: its state-machine history, its relationships' linkage
 * (`/{type}/{id}/relationships/{rel}`) and its related records (`/{type}/{id}/{rel}`). Each first
 * reads the record itself through the kernel, so a record the actor cannot see is a 404 here too.
 */
import type { FastifyInstance } from "fastify";
import type { Filter } from "../../kernel/filter.js";
import type { AnyResource } from "../../kernel/resource/types.js";
import { isSondeError } from "../../lib/errors.js";
import { parseQuery } from "./query.js";
import type { IdParams } from "./resource-routes.js";
import { type Deps, pageDocument, recordDocument, scope, send } from "./respond.js";
import { JSONAPI_OBJECT } from "./serialize.js";

type Query = Readonly<Record<string, unknown>>;

export function registerRelatedRoutes(app: FastifyInstance, deps: Deps, resource: AnyResource): void {
  const { kernel } = deps;
  const member = `/${resource.type}/:id`;

  if (resource.spec.stateMachine !== undefined) {
    app.get<{ Params: IdParams }>(`${member}/history`, async (request, reply) => {
      const s = scope(deps, request);
      parseQuery(kernel, resource, request.query as Query, "none");
      const rows = await kernel.history(resource, s.ctx, request.params.id);
      // Transitions are not resources of their own (they have no public id): they travel as meta.
      const history = rows.map((r) => ({
        action: r.action,
        from: r.from,
        to: r.to,
        actor_kind: r.actor_kind,
        actor_id: r.actor_id,
        at: r.at instanceof Date ? r.at.toISOString() : r.at,
      }));
      return send(reply, 200, {
        jsonapi: JSONAPI_OBJECT,
        meta: { history },
        links: { self: s.self.toString() },
      });
    });
  }

  for (const [name, rel] of Object.entries(resource.spec.relationships ?? {})) {
    const related = kernel.related(resource, name);

    app.get<{ Params: IdParams }>(`${member}/relationships/${name}`, async (request, reply) => {
      const s = scope(deps, request);
      parseQuery(kernel, resource, request.query as Query, "none");
      const id = request.params.id;
      const owner = await kernel.get(resource, s.ctx, id);
      const links = {
        self: s.self.toString(),
        related: `${s.base}/${resource.type}/${encodeURIComponent(id)}/${name}`,
      };
      if (rel.kind === "belongs_to") {
        const key = owner[rel.sourceField];
        const data = key === null || key === undefined ? null : { type: related.type, id: String(key) };
        return send(reply, 200, { jsonapi: JSONAPI_OBJECT, data, links });
      }
      const rows = await kernel.listWhereIn(related, s.ctx, rel.destinationField, [
        owner[resource.primaryKey],
      ]);
      const data = rows.map((r) => ({ type: related.type, id: String(r[related.primaryKey]) }));
      return send(reply, 200, { jsonapi: JSONAPI_OBJECT, data, links });
    });

    app.get<{ Params: IdParams }>(`${member}/${name}`, async (request, reply) => {
      const s = scope(deps, request);
      const id = request.params.id;
      if (rel.kind === "belongs_to") {
        const q = parseQuery(kernel, related, request.query as Query, "single");
        const owner = await kernel.get(resource, s.ctx, id);
        const key = owner[rel.sourceField];
        const target =
          key === null || key === undefined
            ? null
            : await kernel
                .get(related, s.ctx, String(key), { aggregates: q.aggregates })
                .catch((err: unknown) => {
                  // The owner is visible but the related record is not (its own policy): no data, as if unset.
                  if (isSondeError(err, "SONDE_NOT_FOUND")) return null;
                  throw err;
                });
        if (target === null) {
          return send(reply, 200, {
            jsonapi: JSONAPI_OBJECT,
            data: null,
            links: { self: s.self.toString() },
          });
        }
        return send(reply, 200, (await recordDocument(deps, s, related, target, q)).document);
      }
      const q = parseQuery(kernel, related, request.query as Query, "collection");
      const owner = await kernel.get(resource, s.ctx, id);
      const own: Filter = {
        field: rel.destinationField,
        op: "eq",
        value: String(owner[resource.primaryKey]),
      };
      const filter: Filter = q.list.filter === undefined ? own : { and: [own, q.list.filter] };
      const page = await kernel.list(related, s.ctx, { ...q.list, filter });
      return send(reply, 200, await pageDocument(deps, s, related, page, q, q.list.page?.number));
    });
  }
}
