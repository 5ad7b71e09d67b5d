/**
 * Cross-tenant probes on the infrastructure resources and the cluster view: bravo's admin aims every
 * route at alpha's partition, poller, agent and checker by id and points bravo's records at them;
 * nothing of alpha's comes back (404, or 422 for a reference), alpha's records and control keys stay
 * as they were, and row-level security alone hides them from raw SQL in bravo's scope. The cluster
 * view shows each caller their own tenant's pollers and agents only, and is in the OpenAPI document.
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterOpenApiPaths, clusterRoutes } from "../../src/api/infrastructure/cluster-route.js";
import { buildOpenApi } from "../../src/api/openapi/document.js";
import { systemActor } from "../../src/kernel/actor.js";
import { inScope, queryRows } from "../../src/kernel/tenancy/transaction.js";
import { createBus } from "../../src/platform/bus/index.js";
import type { Bus } from "../../src/platform/bus/types.js";
import {
  type CoreInstanceHandle,
  listCoreInstances,
  registerCoreInstance,
} from "../../src/platform/cluster/core-instances.js";
import { CONTROL_BUCKET } from "../../src/platform/fabric/contract.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget, silentLogger } from "../support/databases.js";
import {
  type CallOptions,
  doc,
  error,
  type IdentityHarness,
  many,
  type Method,
  openIdentityHarness,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

const system = systemActor("infra-cross-tenant");
const TABLES = ["partitions", "pollers", "agents", "checkers"];

interface ClusterBody {
  readonly core_instances: { readonly node: string }[];
  readonly partitions: {
    readonly slug: string;
    readonly declared: boolean;
    readonly pollers: { readonly component_id: string; readonly status: string }[];
    readonly agents: { readonly component_id: string }[];
  }[];
}

function suite(target: DatabaseTarget) {
  describe(`infrastructure cross-tenant probes: ${target.name}`, () => {
    let h: IdentityHarness;
    let bus: Bus;
    let core: CoreInstanceHandle;
    let alpha: string;
    let bravo: string;
    const a = { partition: "", poller: "", agent: "", checker: "" };
    let bravoAdmin: CallOptions;
    let bravoViewer: CallOptions;
    let alphaViewer: CallOptions;

    beforeAll(async () => {
      bus = await createBus({ name: "infra-cross-tenant", logger: silentLogger });
      h = await openIdentityHarness(target, {
        bus,
        routes: async ({ app, kernel, resolveActor, t }) => {
          await app.register(clusterRoutes, {
            prefix: "/api/v2",
            kernel,
            resolveActor,
            coreInstances: async () =>
              (await listCoreInstances(t.db)).map((c) => ({
                id: c.id,
                node: c.node,
                version: c.version,
                roles: c.roles,
                started_at: c.startedAt.toISOString(),
                heartbeat_at: c.heartbeatAt.toISOString(),
              })),
          });
        },
      });
      core = await registerCoreInstance(
        h.t.db,
        { node: "core-test", version: "0.0.0", roles: ["core"] },
        silentLogger,
      );
      alpha = await h.createTenant("alpha");
      bravo = await h.createTenant("bravo");
      const k = h.kernel;
      const make = async (tenantId: string, resource: string, attributes: Record<string, unknown>) =>
        String((await k.create(k.resource(resource), { actor: system, tenantId }, attributes)).id);
      a.partition = await make(alpha, "partition", {
        name: "alpha-secret-site",
        slug: "site-a",
        cidr_ranges: ["10.77.0.0/16"],
      });
      a.poller = await make(alpha, "poller", { component_id: "alpha-secret-poller", partition: "site-a" });
      a.agent = await make(alpha, "agent", {
        component_id: "alpha-secret-agent",
        partition: "site-a",
        poller_id: a.poller,
      });
      a.checker = await make(alpha, "checker", {
        agent_id: a.agent,
        name: "alpha-secret-check",
        check_type: "tcp",
      });
      // bravo has the same partition slug and a poller outside any declared partition.
      await make(bravo, "partition", { name: "Bravo site", slug: "site-a", cidr_ranges: ["10.77.0.0/16"] });
      await make(bravo, "poller", { component_id: "bravo-poller", partition: "site-a" });
      await make(bravo, "agent", { component_id: "bravo-agent", partition: "default" });

      const login = async (tenantId: string, email: string, role: "viewer" | "admin") => {
        await h.addMember(tenantId, await h.createUser(email), role);
        return { as: await h.signIn(email) };
      };
      bravoAdmin = await login(bravo, "admin@bravo.example", "admin");
      bravoViewer = await login(bravo, "viewer@bravo.example", "viewer");
      alphaViewer = await login(alpha, "viewer@alpha.example", "viewer");
    });
    afterAll(async () => {
      await core?.stop();
      await h?.close();
      await bus?.close();
    });

    it("answers 404 to every route aimed at alpha's records", async () => {
      const probes: [Method, string, unknown?][] = [
        ["GET", `/partitions/${a.partition}`],
        ["PATCH", `/partitions/${a.partition}`, doc("partitions", { description: "x" }, a.partition)],
        ["DELETE", `/partitions/${a.partition}`],
        ["GET", `/pollers/${a.poller}`],
        ["GET", `/pollers/${a.poller}/history`],
        ["PATCH", `/pollers/${a.poller}`, doc("pollers", { partition: "x" }, a.poller)],
        ["POST", `/pollers/${a.poller}/drain`],
        ["POST", `/pollers/${a.poller}/maintenance`],
        ["POST", `/pollers/${a.poller}/resume`],
        ["DELETE", `/pollers/${a.poller}`],
        ["GET", `/agents/${a.agent}`],
        ["GET", `/agents/${a.agent}/poller`],
        ["PATCH", `/agents/${a.agent}`, doc("agents", { address: "x:1" }, a.agent)],
        ["DELETE", `/agents/${a.agent}`],
        ["GET", `/checkers/${a.checker}`],
        ["POST", `/checkers/${a.checker}/pause`],
        ["POST", `/checkers/${a.checker}/disable`],
        ["DELETE", `/checkers/${a.checker}`],
      ];
      for (const [method, path, body] of probes) {
        const res = await h.call(method, `/api/v2${path}`, {
          ...bravoAdmin,
          ...(body !== undefined ? { body } : {}),
        });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.raw, `${method} ${path}`).not.toContain("alpha-secret");
      }
      const control = await bus.kv(CONTROL_BUCKET);
      expect(await control.keys("alpha.>")).toEqual([]);
    });

    it("refuses references to alpha's records from bravo's", async () => {
      const agent = await h.call("POST", "/api/v2/agents", {
        ...bravoAdmin,
        body: doc("agents", { component_id: "bravo-probe", poller_id: a.poller }),
      });
      expect(agent.status).toBe(422);
      expect(error(agent).source?.pointer).toBe("/data/attributes/poller_id");
      const checker = await h.call("POST", "/api/v2/checkers", {
        ...bravoAdmin,
        body: doc("checkers", { agent_id: a.agent, name: "probe", check_type: "tcp" }),
      });
      expect(checker.status).toBe(422);
    });

    it("lists and filters only bravo's records", async () => {
      for (const type of ["partitions", "pollers", "agents", "checkers"]) {
        const res = await h.call("GET", `/api/v2/${type}`, bravoAdmin);
        expect(res.status, type).toBe(200);
        expect(res.raw, type).not.toContain("alpha-secret");
        for (const r of many(res)) expect(Object.values(a), type).not.toContain(r.id);
      }
      const bySlug = await h.call("GET", "/api/v2/partitions?filter[slug]=site-a", bravoAdmin);
      expect(many(bySlug).map((p) => p.attributes.name)).toEqual(["Bravo site"]);
    });

    it("shows each caller their own tenant's cluster", async () => {
      const res = await h.call("GET", "/api/v2/cluster", bravoViewer);
      expect(res.status).toBe(200);
      expect(res.raw).not.toContain("alpha-secret");
      const body = res.json as unknown as ClusterBody;
      expect(body.core_instances.map((c) => c.node)).toContain("core-test");
      expect(body.partitions.map((p) => [p.slug, p.declared])).toEqual([
        ["default", false],
        ["site-a", true],
      ]);
      expect(body.partitions[0]?.agents.map((x) => x.component_id)).toEqual(["bravo-agent"]);
      expect(body.partitions[1]?.pollers).toMatchObject([
        { component_id: "bravo-poller", status: "inactive" },
      ]);

      const alphaView = (await h.call("GET", "/api/v2/cluster", alphaViewer)).json as unknown as ClusterBody;
      expect(alphaView.partitions.map((p) => p.slug)).toEqual(["site-a"]);
      expect(alphaView.partitions[0]?.pollers.map((p) => p.component_id)).toEqual(["alpha-secret-poller"]);
      expect(alphaView.partitions[0]?.agents.map((p) => p.component_id)).toEqual(["alpha-secret-agent"]);
      expect(JSON.stringify(alphaView)).not.toContain("bravo-");

      expect((await h.call("GET", "/api/v2/cluster")).status).toBe(401);
    });

    it("describes the cluster route in a valid OpenAPI document", async () => {
      const openapi = buildOpenApi(h.kernel, "/api/v2", clusterOpenApiPaths);
      const result = await new Validator().validate(
        JSON.parse(JSON.stringify(openapi)) as Record<string, unknown>,
      );
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(Object.keys(openapi.paths)).toEqual(
        expect.arrayContaining(["/cluster", "/pollers/{id}/drain", "/checkers/{id}/pause", "/partitions"]),
      );
      expect(openapi.tags.map((t) => t.name)).toContain("cluster");
    });

    it("hides alpha's rows from raw SQL in bravo's scope (row-level security)", async () => {
      await inScope(h.t.db.orm, { tenantId: bravo, bypass: false }, async (tx) => {
        for (const table of TABLES) {
          const rows = await queryRows<{ n: number }>(
            tx,
            sql`select count(*)::int as n from ${sql.identifier(table)} where tenant_id <> ${bravo}`,
          );
          expect(rows[0]?.n, table).toBe(0);
        }
      });
      await inScope(h.t.db.orm, { tenantId: null, bypass: true }, async (tx) => {
        for (const table of TABLES) {
          const rows = await queryRows<{ n: number }>(
            tx,
            sql`select count(distinct tenant_id)::int as n from ${sql.identifier(table)}`,
          );
          expect(rows[0]?.n, table).toBe(table === "checkers" ? 1 : 2);
        }
      });
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
