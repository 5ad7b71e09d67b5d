/**
 * The infrastructure resources over HTTP with real sessions (docs/infrastructure.md): partitions,
 * pollers, agents and checkers through the JSON:API — CRUD, validation (a bad CIDR is named), the
 * role matrix (viewer reads, operator writes and drains, admin removes, nobody but the system runs
 * the watcher's actions), state machines with their history, the control key an operator action
 * writes, and checker outcomes flipping active ↔ failing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemActor } from "../../src/kernel/actor.js";
import { recordCheckerOutcome } from "../../src/domains/infrastructure/checker-outcome.js";
import { createBus } from "../../src/platform/bus/index.js";
import type { Bus } from "../../src/platform/bus/types.js";
import { CONTROL_BUCKET, controlSchema } from "../../src/platform/fabric/contract.js";
import { type DatabaseTarget, embeddedTarget, postgresTarget, silentLogger } from "../support/databases.js";
import {
  type CallOptions,
  doc,
  error,
  type IdentityHarness,
  many,
  one,
  openIdentityHarness,
} from "../support/identity-harness.js";
import { serviceGate } from "../support/services.js";

const system = systemActor("infrastructure-tests");

function suite(target: DatabaseTarget) {
  describe(`infrastructure resources: ${target.name}`, () => {
    let h: IdentityHarness;
    let bus: Bus;
    let acme: string;
    const as: Record<"viewer" | "operator" | "admin", CallOptions> = {
      viewer: {},
      operator: {},
      admin: {},
    };
    let n = 0;
    const next = () => ++n;
    const inAcme = () => ({ actor: system, tenantId: acme });
    const make = async (resource: string, attributes: Record<string, unknown>) => {
      const k = h.kernel;
      return String((await k.create(k.resource(resource), inAcme(), attributes)).id);
    };
    const poller = () => make("poller", { component_id: `poller-${next()}`, partition: "site-a" });
    const agent = () => make("agent", { component_id: `agent-${next()}` });

    beforeAll(async () => {
      bus = await createBus({ name: "infra-resources", logger: silentLogger });
      h = await openIdentityHarness(target, { bus });
      acme = await h.createTenant("acme");
      for (const role of ["viewer", "operator", "admin"] as const) {
        const user = await h.createUser(`${role}@acme.example`);
        await h.addMember(acme, user, role);
        as[role] = { as: await h.signIn(`${role}@acme.example`) };
      }
    });
    afterAll(async () => {
      await h?.close();
      await bus?.close();
    });

    it("creates, reads, edits and removes a partition", async () => {
      const created = await h.call("POST", "/api/v2/partitions", {
        ...as.operator,
        body: doc("partitions", {
          name: "Site A",
          slug: "site-a",
          cidr_ranges: ["10.0.0.0/8", "2001:db8::/32"],
        }),
      });
      expect(created.status).toBe(201);
      const id = one(created).id;
      expect(one(created).attributes).toMatchObject({
        slug: "site-a",
        cidr_ranges: ["10.0.0.0/8", "2001:db8::/32"],
      });
      const edited = await h.call("PATCH", `/api/v2/partitions/${id}`, {
        ...as.operator,
        body: doc("partitions", { description: "the first site" }, id),
      });
      expect(edited.status).toBe(200);
      expect(one(edited).attributes.description).toBe("the first site");
      const listed = await h.call("GET", "/api/v2/partitions?filter[slug]=site-a", as.viewer);
      expect(many(listed).map((p) => p.id)).toEqual([id]);
      expect((await h.call("DELETE", `/api/v2/partitions/${id}`, as.operator)).status).toBe(403);
      expect((await h.call("DELETE", `/api/v2/partitions/${id}`, as.admin)).status).toBe(204);
      expect((await h.call("GET", `/api/v2/partitions/${id}`, as.viewer)).status).toBe(404);
    });

    it("names the bad CIDR entry, refuses a bad slug and a taken one, and allows overlapping ranges", async () => {
      const bad = await h.call("POST", "/api/v2/partitions", {
        ...as.operator,
        body: doc("partitions", { name: "Bad", slug: "bad", cidr_ranges: ["10.0.0.0/8", "10.0.0.300/24"] }),
      });
      expect(bad.status).toBe(422);
      expect(error(bad).code).toBe("SONDE_VALIDATION_FAILED");
      expect(error(bad).source?.pointer).toBe("/data/attributes/cidr_ranges");
      expect(error(bad).detail).toContain('entry 1 ("10.0.0.300/24")');

      const slug = await h.call("POST", "/api/v2/partitions", {
        ...as.operator,
        body: doc("partitions", { name: "Dots", slug: "a.b" }),
      });
      expect(slug.status).toBe(422);
      expect(error(slug).source?.pointer).toBe("/data/attributes/slug");

      const first = await h.call("POST", "/api/v2/partitions", {
        ...as.operator,
        body: doc("partitions", { name: "East", slug: "east", cidr_ranges: ["192.168.0.0/16"] }),
      });
      const overlapping = await h.call("POST", "/api/v2/partitions", {
        ...as.operator,
        body: doc("partitions", { name: "West", slug: "west", cidr_ranges: ["192.168.1.0/24"] }),
      });
      expect([first.status, overlapping.status]).toEqual([201, 201]);
      const taken = await h.call("POST", "/api/v2/partitions", {
        ...as.operator,
        body: doc("partitions", { name: "East again", slug: "east" }),
      });
      expect(taken.status).toBe(409);
      expect(error(taken).code).toBe("SONDE_DB_UNIQUE_VIOLATION");
    });

    it("lets viewers read, operators declare and admins remove pollers and agents", async () => {
      const byViewer = await h.call("POST", "/api/v2/pollers", {
        ...as.viewer,
        body: doc("pollers", { component_id: "by-viewer" }),
      });
      expect(byViewer.status).toBe(403);
      const declared = await h.call("POST", "/api/v2/pollers", {
        ...as.operator,
        body: doc("pollers", { component_id: "declared-1", partition: "site-a" }),
      });
      expect(declared.status).toBe(201);
      const p = one(declared);
      expect(p.attributes).toMatchObject({
        status: "inactive",
        intent: "active",
        partition: "site-a",
        registry_key: "acme.poller.site-a.declared-1",
      });
      const badId = await h.call("POST", "/api/v2/pollers", {
        ...as.operator,
        body: doc("pollers", { component_id: "no.dots" }),
      });
      expect(badId.status).toBe(422);
      // What only the registry reports cannot be set by hand.
      const status = await h.call("PATCH", `/api/v2/pollers/${p.id}`, {
        ...as.admin,
        body: doc("pollers", { status: "healthy" }, p.id),
      });
      expect(status.status).toBe(422);
      expect((await h.call("GET", `/api/v2/pollers/${p.id}`, as.viewer)).status).toBe(200);
      expect((await h.call("DELETE", `/api/v2/pollers/${p.id}`, as.operator)).status).toBe(403);
      expect((await h.call("DELETE", `/api/v2/pollers/${p.id}`, as.admin)).status).toBe(204);

      const pollerId = await poller();
      const a = await h.call("POST", "/api/v2/agents", {
        ...as.operator,
        body: doc("agents", { component_id: "agent-x", poller_id: pollerId, address: "10.0.0.5:50051" }),
      });
      expect(a.status).toBe(201);
      expect(one(a).attributes).toMatchObject({ status: "connecting", poller_id: pollerId });
      expect((await h.call("GET", `/api/v2/agents/${one(a).id}/poller`, as.viewer)).status).toBe(200);
      expect((await h.call("DELETE", `/api/v2/agents/${one(a).id}`, as.admin)).status).toBe(204);
    });

    it("keeps the watcher's actions to the system, whatever the role", async () => {
      const id = await poller();
      const k = h.kernel;
      for (const action of ["activate", "heartbeat", "degrade", "go_offline"]) {
        const res = await h.call("POST", `/api/v2/pollers/${id}/${action}`, as.admin);
        expect(res.status, action).toBe(404);
      }
      const rec = await k.runAction(k.resource("poller"), "activate", inAcme(), { id });
      expect(rec?.status).toBe("healthy");
    });

    it("drains, maintains and resumes a poller: operators only, with history and the control key", async () => {
      const id = await poller();
      const k = h.kernel;
      await k.runAction(k.resource("poller"), "activate", inAcme(), {
        id,
        input: { status_reason: "first heartbeat" },
      });
      const control = await bus.kv(CONTROL_BUCKET);

      expect((await h.call("POST", `/api/v2/pollers/${id}/drain`, as.viewer)).status).toBe(403);
      const drained = await h.call("POST", `/api/v2/pollers/${id}/drain`, {
        ...as.operator,
        body: { meta: { arguments: { reason: "moving racks" } } },
      });
      expect(drained.status).toBe(200);
      expect(one(drained).attributes).toMatchObject({
        status: "draining",
        intent: "draining",
        status_reason: "moving racks",
      });
      const key = String(one(drained).attributes.registry_key);
      const written = controlSchema.parse((await control.get(key))?.json());
      expect(written.mode).toBe("draining");

      const again = await h.call("POST", `/api/v2/pollers/${id}/drain`, as.operator);
      expect(again.status).toBe(409);
      expect(error(again).code).toBe("SONDE_INVALID_TRANSITION");

      const maint = await h.call("POST", `/api/v2/pollers/${id}/maintenance`, as.admin);
      expect(one(maint).attributes).toMatchObject({ status: "maintenance", intent: "maintenance" });
      expect(controlSchema.parse((await control.get(key))?.json()).mode).toBe("maintenance");

      const resumed = await h.call("POST", `/api/v2/pollers/${id}/resume`, as.operator);
      expect(one(resumed).attributes).toMatchObject({ status: "recovering", intent: "active" });
      expect(controlSchema.parse((await control.get(key))?.json()).mode).toBe("active");

      const history = await h.call("GET", `/api/v2/pollers/${id}/history`, as.viewer);
      expect(history.status).toBe(200);
      const steps = (history.doc.meta?.history as { from: string; to: string; action: string }[]).map(
        (r) => `${r.from}>${r.to}:${r.action}`,
      );
      expect(steps).toEqual([
        "inactive>healthy:activate",
        "healthy>draining:drain",
        "draining>maintenance:maintenance",
        "maintenance>recovering:resume",
      ]);
    });

    it("pauses, resumes, disables and enables checkers, and flips them on outcomes", async () => {
      const agentId = await agent();
      const created = await h.call("POST", "/api/v2/checkers", {
        ...as.operator,
        body: doc("checkers", { agent_id: agentId, name: "web", check_type: "http", failure_threshold: 2 }),
      });
      expect(created.status).toBe(201);
      const id = one(created).id;
      expect(one(created).attributes).toMatchObject({ status: "active", consecutive_failures: 0 });
      const badType = await h.call("POST", "/api/v2/checkers", {
        ...as.operator,
        body: doc("checkers", { agent_id: agentId, name: "x", check_type: "HTTP GET" }),
      });
      expect(badType.status).toBe(422);

      const ctx = inAcme();
      let rec = await recordCheckerOutcome(h.kernel, ctx, id, { success: false, reason: "timeout" });
      expect(rec).toMatchObject({ status: "active", consecutive_failures: 1, reason: "timeout" });
      rec = await recordCheckerOutcome(h.kernel, ctx, id, { success: false, reason: "refused" });
      expect(rec).toMatchObject({ status: "failing", consecutive_failures: 2, reason: "refused" });
      rec = await recordCheckerOutcome(h.kernel, ctx, id, { success: false });
      expect(rec).toMatchObject({ status: "failing", consecutive_failures: 3 });
      rec = await recordCheckerOutcome(h.kernel, ctx, id, { success: true });
      expect(rec).toMatchObject({ status: "active", consecutive_failures: 0, reason: null });
      expect(rec.last_success_at).toBeInstanceOf(Date);

      // A user cannot record outcomes, even an admin.
      const user = h.kernel;
      const adminActor = {
        actor: { kind: "user" as const, id: "x", tenantId: acme, role: "admin" as const, superUser: false },
      };
      await expect(recordCheckerOutcome(user, adminActor, id, { success: false })).rejects.toMatchObject({
        code: "SONDE_FORBIDDEN",
      });

      expect((await h.call("POST", `/api/v2/checkers/${id}/pause`, as.viewer)).status).toBe(403);
      const paused = await h.call("POST", `/api/v2/checkers/${id}/pause`, as.operator);
      expect(one(paused).attributes.status).toBe("paused");
      expect((await h.call("POST", `/api/v2/checkers/${id}/enable`, as.operator)).status).toBe(409);
      expect(one(await h.call("POST", `/api/v2/checkers/${id}/resume`, as.operator)).attributes.status).toBe(
        "active",
      );
      expect(one(await h.call("POST", `/api/v2/checkers/${id}/disable`, as.operator)).attributes.status).toBe(
        "disabled",
      );
      // A disabled checker's results count but do not flip it.
      rec = await recordCheckerOutcome(h.kernel, ctx, id, { success: false });
      expect(rec).toMatchObject({ status: "disabled", consecutive_failures: 1 });
      rec = await recordCheckerOutcome(h.kernel, ctx, id, { success: false });
      expect(rec).toMatchObject({ status: "disabled", consecutive_failures: 2 });
      expect(one(await h.call("POST", `/api/v2/checkers/${id}/enable`, as.operator)).attributes.status).toBe(
        "active",
      );
      const history = await h.kernel.history(h.kernel.resource("checker"), ctx, id);
      expect(history.map((r) => r.action)).toEqual([
        "mark_failing",
        "mark_passing",
        "pause",
        "resume",
        "disable",
        "enable",
      ]);
      expect((await h.call("DELETE", `/api/v2/checkers/${id}`, as.operator)).status).toBe(403);
      expect((await h.call("DELETE", `/api/v2/checkers/${id}`, as.admin)).status).toBe(204);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
