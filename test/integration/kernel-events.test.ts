import { isNull, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outbox } from "../../src/kernel/kernel.schema.js";
import { OutboxRelay } from "../../src/kernel/outbox.js";
import { inScope } from "../../src/kernel/tenancy/transaction.js";
import { createBus } from "../../src/platform/bus/index.js";
import type { Bus, BusMessage } from "../../src/platform/bus/types.js";
import {
  type DatabaseTarget,
  embeddedTarget,
  postgresTarget,
  silentLogger,
  type TestDatabase,
} from "../support/databases.js";
import { type Fixture, setupKernel } from "../support/kernel-fixtures.js";
import { serviceGate } from "../support/services.js";
import { waitFor } from "../support/wait.js";

function suite(target: DatabaseTarget) {
  describe(`kernel outbox, errors and reads: ${target.name}`, () => {
    let t: TestDatabase;
    let f: Fixture;
    let bus: Bus;
    let relay: OutboxRelay;
    const received: BusMessage[] = [];
    beforeAll(async () => {
      t = await target.open();
      bus = await createBus({ name: "test", logger: silentLogger });
      bus.subscribe("sonde.>", (m) => {
        received.push(m);
      });
      relay = new OutboxRelay({ orm: t.db.orm, bus, logger: silentLogger, intervalMs: 50 });
      f = await setupKernel(t.db, { onOutboxWrite: () => relay.nudge() });
      relay.start();
    });
    afterAll(async () => {
      await relay?.stop();
      await bus?.close();
      await t?.dispose();
    });
    const notes = () => f.kernel.resource("notes");
    const admin = () => ({ actor: f.actor(f.tenantA, "admin") });

    it("publishes committed changes as sonde.<tenant>.<resource>.<action>, at least once", async () => {
      const n = await f.kernel.create(notes(), admin(), { title: "evented", owner_id: "o" });
      await f.kernel.update(notes(), admin(), String(n.id), {}, { action: "publish" });
      await waitFor(() => received.filter((m) => m.json<{ id: string }>().id === n.id).length >= 2, 5_000);
      const subjects = received.filter((m) => m.json<{ id: string }>().id === n.id).map((m) => m.subject);
      expect(subjects).toEqual(["sonde.acme.note.create", "sonde.acme.note.publish"]);
      const body = received
        .find((m) => m.subject === "sonde.acme.note.publish")
        ?.json<{ record: { state: string; secret?: unknown } }>();
      expect(body?.record.state).toBe("published");
      expect(body?.record).not.toHaveProperty("secret");
      // The relay marks a row published after the bus accepted it, so a subscriber may see the event
      // a moment before the row is marked: wait for the marks, bounded.
      const pending = () =>
        inScope(t.db.orm, { tenantId: null, bypass: true }, (tx) =>
          tx.select().from(outbox).where(isNull(outbox.published_at)),
        );
      await waitFor(async () => (await pending()).length === 0, 5_000, "the outbox rows marked published");
      expect(await pending()).toHaveLength(0);
    });

    it("publishes nothing for a rolled-back write", async () => {
      const before = received.length;
      await f.kernel.create(notes(), admin(), { title: "dup", owner_id: "o" });
      await waitFor(() => received.length > before, 5_000);
      const after = received.length;
      // The unique identity makes the second insert fail inside the transaction: no outbox row survives.
      await expect(f.kernel.create(notes(), admin(), { title: "dup", owner_id: "o" })).rejects.toMatchObject({
        code: "SONDE_DB_UNIQUE_VIOLATION",
        httpStatus: 409,
      });
      await relay.drain();
      expect(received.length).toBe(after);
    });

    it("names the field of a unique violation and classifies a missing parent as 422", async () => {
      const err = await f.kernel
        .create(notes(), admin(), { title: "dup", owner_id: "o" })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: "SONDE_DB_UNIQUE_VIOLATION",
        message: "title is already taken",
        pointer: "/data/attributes/title",
        meta: { field: "title" },
      });
      const comments = f.kernel.resource("comments");
      const fk = await f.kernel
        .create(comments, admin(), { note_id: "00000000-0000-4000-8000-000000000000", body: "orphan" })
        .catch((e: unknown) => e);
      expect(fk).toMatchObject({
        code: "SONDE_VALIDATION_FAILED",
        httpStatus: 422,
        message: "note_id refers to a note that does not exist",
        pointer: "/data/attributes/note_id",
      });
      // Another tenant's note is refused exactly like one that does not exist: no existence oracle.
      const inB = await f.kernel.create(
        notes(),
        { actor: f.actor(f.tenantB, "admin") },
        { title: "b-note", owner_id: "o" },
      );
      const cross = await f.kernel
        .create(comments, admin(), { note_id: inB.id, body: "sneaky" })
        .catch((e: unknown) => e);
      expect(cross).toMatchObject({
        code: "SONDE_VALIDATION_FAILED",
        message: "note_id refers to a note that does not exist",
      });
    });

    it("validates input with pointers: unknown attribute, wrong type, not accepted, required", async () => {
      await expect(
        f.kernel.create(notes(), admin(), { title: "x", owner_id: "o", colour: "red" }),
      ).rejects.toMatchObject({
        code: "SONDE_VALIDATION_FAILED",
        pointer: "/data/attributes/colour",
      });
      await expect(
        f.kernel.create(notes(), admin(), { title: "x", owner_id: "o", priority: "high" }),
      ).rejects.toMatchObject({
        pointer: "/data/attributes/priority",
      });
      await expect(
        f.kernel.create(notes(), admin(), { title: "x", owner_id: "o", state: "archived" }),
      ).rejects.toMatchObject({
        message: "state cannot be set by the create action",
      });
      await expect(f.kernel.create(notes(), admin(), { owner_id: "o" })).rejects.toMatchObject({
        message: "title is required",
        pointer: "/data/attributes/title",
      });
      await expect(f.kernel.create(notes(), admin(), { title: "", owner_id: "o" })).rejects.toMatchObject({
        pointer: "/data/attributes/title",
      });
      const n = await f.kernel.create(notes(), admin(), { title: "valid", owner_id: "o" });
      await expect(f.kernel.update(notes(), admin(), String(n.id), { priority: 11 })).rejects.toMatchObject({
        message: "priority: must be at most 10",
      });
      await expect(f.kernel.get(notes(), admin(), "not-a-uuid")).rejects.toMatchObject({
        code: "SONDE_NOT_FOUND",
      });
    });

    it("upserts on an identity", async () => {
      const first = await f.kernel.create(
        notes(),
        admin(),
        { title: "upserted", owner_id: "o", priority: 1 },
        { action: "upsert" },
      );
      const second = await f.kernel.create(
        notes(),
        admin(),
        { title: "upserted", owner_id: "o", priority: 7 },
        { action: "upsert" },
      );
      expect(second.id).toBe(first.id);
      expect(second.priority).toBe(7);
    });

    it("computes calculations and aggregates, and sorts and pages by keyset without skipping or repeating", async () => {
      const comments = f.kernel.resource("comments");
      const n = await f.kernel.create(notes(), admin(), { title: "with-comments", owner_id: "o" });
      for (const score of [3, 9, 4]) {
        await f.kernel.create(comments, admin(), { note_id: n.id, body: `c${score}`, score });
      }
      const got = await f.kernel.get(notes(), admin(), String(n.id), {
        aggregates: ["comment_count", "top_score"],
      });
      expect(got).toMatchObject({ display_name: "with-comments", comment_count: 3, top_score: 9 });

      for (let i = 0; i < 23; i++) {
        await f.kernel.create(notes(), admin(), {
          title: `page-${String(i).padStart(2, "0")}`,
          owner_id: "o",
          priority: i % 3,
        });
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (let guard = 0; guard < 50; guard++) {
        const page = await f.kernel.list(notes(), admin(), {
          filter: { field: "title", op: "like", value: "page-%" },
          sort: [{ field: "priority", direction: "desc" }],
          page: { size: 5, ...(after ? { after } : {}) },
        });
        seen.push(...page.records.map((r) => String(r.title)));
        const priorities = page.records.map((r) => Number(r.priority));
        expect([...priorities].sort((a, b) => b - a)).toEqual(priorities);
        if (page.nextCursor === null) break;
        after = page.nextCursor;
      }
      expect(seen).toHaveLength(23);
      expect(new Set(seen).size).toBe(23);
      await expect(f.kernel.list(notes(), admin(), { page: { after: "garbage" } })).rejects.toMatchObject({
        code: "SONDE_BAD_REQUEST",
      });
      const byCount = await f.kernel.list(notes(), admin(), {
        sort: [{ field: "comment_count", direction: "desc" }],
        page: { size: 1 },
      });
      expect(byCount.records[0]?.id).toBe(n.id);
      const raw = await inScope(t.db.orm, { tenantId: f.tenantA, bypass: false }, (tx) =>
        tx.execute(sql`select 1`),
      );
      expect(raw).toBeDefined();
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
