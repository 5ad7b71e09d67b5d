/**
 * `GET /cluster` (registered under /api/v2): the core instances and the caller's tenant's pollers and
 * agents by partition. Plain JSON (a view, not a resource). Authorization is the kernel's: the view
 * is built from kernel reads as the caller (domains/infrastructure/cluster-view.ts).
 */
import type { FastifyPluginAsync } from "fastify";
import {
  type ClusterView,
  clusterView,
  type CoreInstanceView,
} from "../../domains/infrastructure/cluster-view.js";
import type { Kernel } from "../../kernel/kernel.js";
import { type ActorResolver, authenticate } from "../auth/actor.js";
import type { PathItem } from "../openapi/common.js";

export interface ClusterRoutesOptions {
  readonly kernel: Kernel;
  readonly resolveActor: ActorResolver;
  /** The live core instances (platform/cluster/core-instances.ts). */
  readonly coreInstances: () => Promise<readonly CoreInstanceView[]>;
}

export const clusterRoutes: FastifyPluginAsync<ClusterRoutesOptions> = async (app, opts) => {
  app.get("/cluster", async (request, reply): Promise<ClusterView> => {
    const actor = await authenticate(request, opts.resolveActor);
    const view = await clusterView(opts.kernel, { actor }, opts.coreInstances);
    void reply.header("cache-control", "no-store");
    return view;
  });
};

const component = {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    component_id: { type: "string" },
    status: { type: "string" },
    status_reason: { type: ["string", "null"] },
    last_heartbeat_at: { type: ["string", "null"], format: "date-time" },
    version: { type: ["string", "null"] },
    host: { type: ["string", "null"] },
  },
  required: ["id", "component_id", "status", "last_heartbeat_at"],
};

/** The route's entry in the OpenAPI document (it is not a JSON:API resource, so it is added by hand). */
export const clusterOpenApiPaths: Record<string, PathItem> = {
  "/cluster": {
    get: {
      tags: ["cluster"],
      summary: "Core instances, and the caller's pollers and agents by partition",
      description:
        "Plain JSON. Core instances are platform-wide; pollers, agents and partitions are the caller's tenant's, read with the caller's policies (a viewer may read them).",
      responses: {
        "200": {
          description: "The cluster view.",
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: {
                  core_instances: {
                    type: "array",
                    items: {
                      type: "object",
                      properties: {
                        id: { type: "string" },
                        node: { type: "string" },
                        version: { type: "string" },
                        roles: { type: "array", items: { type: "string" } },
                        started_at: { type: "string", format: "date-time" },
                        heartbeat_at: { type: "string", format: "date-time" },
                      },
                      required: ["id", "node", "version", "roles", "started_at", "heartbeat_at"],
                    },
                  },
                  partitions: {
                    type: "array",
                    items: {
                      type: "object",
                      properties: {
                        slug: { type: "string" },
                        name: { type: ["string", "null"] },
                        declared: { type: "boolean" },
                        cidr_ranges: { type: "array", items: { type: "string" } },
                        pollers: { type: "array", items: component },
                        agents: { type: "array", items: component },
                      },
                      required: ["slug", "declared", "pollers", "agents"],
                    },
                  },
                },
                required: ["core_instances", "partitions"],
              },
            },
          },
        },
        "401": { $ref: "#/components/responses/Error401" },
        "403": { $ref: "#/components/responses/Error403" },
      },
    },
  },
};
