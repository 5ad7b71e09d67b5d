import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { serviceGate } from "../support/services.js";
import { error, type Harness, many, noteDoc, one, openHarness } from "./jsonapi-harness.js";

const SECRET = "s3cret-value-never-shown";

function suite(target: DatabaseTarget) {
  describe(`JSON:API documents and policies: ${target.name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => h?.close());

    const ownerOf = (token: string) => h.actors.get(token)?.id ?? "";

    it("creates (201 + Location), reads, lists, updates and deletes (204)", async () => {
      const created = await h.call("POST", "/api/v2/notes", {
        as: "a-admin",
        body: noteDoc({ title: "crud", owner_id: "x", tags: ["a", "b"], priority: 2 }),
      });
      expect(created.status).toBe(201);
      const note = one(created);
      expect(note).toMatchObject({
        type: "notes",
        attributes: { title: "crud", state: "draft", display_name: "crud", tags: ["a", "b"], priority: 2 },
      });
      expect(typeof note.id).toBe("string");
      expect(created.headers.location).toBe(note.links.self);
      expect(note.links.self).toMatch(new RegExp(`/api/v2/notes/${note.id}$`));
      expect(note.attributes).not.toHaveProperty("id");
      expect(note.attributes).not.toHaveProperty("tenant_id");
      expect(typeof note.attributes.created_at).toBe("string");

      const got = await h.call("GET", `/api/v2/notes/${note.id}`, { as: "a-admin" });
      expect(got.status).toBe(200);
      expect(one(got).attributes.title).toBe("crud");
      expect(got.doc.links?.self).toMatch(/\/api\/v2\/notes\//);

      const list = await h.call("GET", "/api/v2/notes", { as: "a-admin" });
      expect(many(list).map((n) => n.id)).toContain(note.id);

      const patched = await h.call("PATCH", `/api/v2/notes/${note.id}`, {
        as: "a-admin",
        body: { data: { type: "notes", id: note.id, attributes: { priority: 5 } } },
      });
      expect(patched.status).toBe(200);
      expect(one(patched).attributes.priority).toBe(5);

      expect((await h.call("DELETE", `/api/v2/notes/${note.id}`, { as: "a-admin" })).status).toBe(204);
      const gone = await h.call("GET", `/api/v2/notes/${note.id}`, { as: "a-admin" });
      expect(gone.status).toBe(404);
      expect(error(gone).code).toBe("SONDE_NOT_FOUND");
    });

    it("enforces the role matrix for notes over HTTP", async () => {
      const mk = async (title: string, extra: Record<string, unknown> = {}) =>
        one(
          await h.call("POST", "/api/v2/notes", {
            as: "a-admin",
            body: noteDoc({ title, owner_id: "x", ...extra }),
          }),
        );
      const pub = await mk("matrix-public");
      const priv = await mk("matrix-private", { visibility: "private" });
      const locked = await mk("matrix-locked", { locked: true });

      // viewer: public only; no writes.
      const seen = many(await h.call("GET", "/api/v2/notes?page[size]=1000", { as: "a-viewer" })).map(
        (n) => n.id,
      );
      expect(seen).toContain(pub.id);
      expect(seen).not.toContain(priv.id);
      expect((await h.call("GET", `/api/v2/notes/${priv.id}`, { as: "a-viewer" })).status).toBe(404);
      expect((await h.call("GET", `/api/v2/notes/${pub.id}`, { as: "a-viewer" })).status).toBe(200);
      const vCreate = await h.call("POST", "/api/v2/notes", {
        as: "a-viewer",
        body: noteDoc({ title: "by-viewer", owner_id: ownerOf("a-viewer") }),
      });
      expect([vCreate.status, error(vCreate).code]).toEqual([403, "SONDE_FORBIDDEN"]);
      const patch = (id: string, attributes: Record<string, unknown>) => ({
        data: { type: "notes", id, attributes },
      });
      expect(
        (
          await h.call("PATCH", `/api/v2/notes/${pub.id}`, {
            as: "a-viewer",
            body: patch(pub.id, { priority: 1 }),
          })
        ).status,
      ).toBe(403);
      expect((await h.call("DELETE", `/api/v2/notes/${pub.id}`, { as: "a-viewer" })).status).toBe(403);

      // operator: creates its own, updates unlocked, cannot archive or delete.
      const own = await h.call("POST", "/api/v2/notes", {
        as: "a-operator",
        body: noteDoc({ title: "by-operator", owner_id: ownerOf("a-operator") }),
      });
      expect(own.status).toBe(201);
      const forOther = await h.call("POST", "/api/v2/notes", {
        as: "a-operator",
        body: noteDoc({ title: "for-someone-else", owner_id: "someone-else" }),
      });
      expect([forOther.status, error(forOther).code]).toEqual([403, "SONDE_FORBIDDEN"]);
      const opPatch = await h.call("PATCH", `/api/v2/notes/${pub.id}`, {
        as: "a-operator",
        body: patch(pub.id, { priority: 3 }),
      });
      expect([opPatch.status, one(opPatch).attributes.priority]).toEqual([200, 3]);
      const lockedPatch = await h.call("PATCH", `/api/v2/notes/${locked.id}`, {
        as: "a-operator",
        body: patch(locked.id, { priority: 3 }),
      });
      expect([lockedPatch.status, error(lockedPatch).code]).toEqual([403, "SONDE_FORBIDDEN"]);
      expect((await h.call("POST", `/api/v2/notes/${pub.id}/archive`, { as: "a-operator" })).status).toBe(
        403,
      );
      expect((await h.call("DELETE", `/api/v2/notes/${pub.id}`, { as: "a-operator" })).status).toBe(403);

      // admin: everything.
      const archived = await h.call("POST", `/api/v2/notes/${pub.id}/archive`, { as: "a-admin" });
      expect([archived.status, one(archived).attributes.state]).toEqual([200, "archived"]);
      expect(
        (
          await h.call("PATCH", `/api/v2/notes/${priv.id}`, {
            as: "a-admin",
            body: patch(priv.id, { priority: 4 }),
          })
        ).status,
      ).toBe(200);
      expect((await h.call("DELETE", `/api/v2/notes/${priv.id}`, { as: "a-admin" })).status).toBe(204);
    });

    it("runs the state machine over custom action routes, with arguments and history", async () => {
      const note = one(
        await h.call("POST", "/api/v2/notes", {
          as: "a-admin",
          body: noteDoc({ title: "sm", owner_id: "x" }),
        }),
      );
      const published = await h.call("POST", `/api/v2/notes/${note.id}/publish`, {
        as: "a-admin",
        body: { meta: { arguments: { note: "going live" } } },
      });
      expect(published.status).toBe(200);
      expect(one(published).attributes).toMatchObject({ state: "published", body: "going live" });

      const again = await h.call("POST", `/api/v2/notes/${note.id}/publish`, { as: "a-admin" });
      expect(again.status).toBe(409);
      expect(error(again)).toMatchObject({ code: "SONDE_INVALID_TRANSITION", meta: { state: "published" } });
      expect(error(again).detail).toContain("published");

      const badArg = await h.call("POST", `/api/v2/notes/${note.id}/publish`, {
        as: "a-admin",
        body: { meta: { arguments: { note: "x".repeat(101) } } },
      });
      expect([badArg.status, error(badArg).source?.pointer]).toEqual([422, "/meta/arguments/note"]);

      const archived = await h.call("POST", `/api/v2/notes/${note.id}/archive`, {
        as: "a-admin",
        body: { data: { type: "notes", id: note.id } },
      });
      expect(one(archived).attributes.state).toBe("archived");

      const history = await h.call("GET", `/api/v2/notes/${note.id}/history`, { as: "a-admin" });
      expect(history.status).toBe(200);
      const rows = history.doc.meta?.history as {
        from: string;
        to: string;
        action: string;
        at: string;
        actor_kind: string;
      }[];
      expect(rows.map((r) => [r.action, r.from, r.to])).toEqual([
        ["publish", "draft", "published"],
        ["archive", "published", "archived"],
      ]);
      expect(Number.isNaN(Date.parse(rows[0]?.at ?? ""))).toBe(false);
      expect(rows[0]).toMatchObject({ actor_kind: "user", actor_id: h.actors.get("a-admin")?.id });
    });

    it("never shows the sensitive secret", async () => {
      const responses: string[] = [];
      const keep = async (p: ReturnType<Harness["call"]>) => {
        const res = await p;
        responses.push(res.raw);
        return res;
      };
      const note = one(
        await keep(
          h.call("POST", "/api/v2/notes", {
            as: "a-admin",
            body: noteDoc({ title: "secretive", owner_id: "x", secret: SECRET }),
          }),
        ),
      );
      expect(note.attributes).not.toHaveProperty("secret");
      await keep(
        h.call("PATCH", `/api/v2/notes/${note.id}`, {
          as: "a-admin",
          body: { data: { type: "notes", id: note.id, attributes: { secret: SECRET } } },
        }),
      );
      await keep(h.call("GET", `/api/v2/notes/${note.id}`, { as: "a-admin" }));
      await keep(h.call("GET", "/api/v2/notes?include=comments", { as: "a-admin" }));
      await keep(
        h.call("POST", "/api/v2/comments", {
          as: "a-admin",
          body: { data: { type: "comments", attributes: { note_id: note.id, body: "hi" } } },
        }),
      );
      await keep(h.call("GET", "/api/v2/comments?include=note", { as: "a-admin" }));
      await keep(h.call("GET", `/api/v2/notes/${note.id}/history`, { as: "a-admin" }));
      await keep(h.call("POST", `/api/v2/notes/${note.id}/publish`, { as: "a-admin" }));
      const asField = await keep(h.call("GET", "/api/v2/notes?fields[notes]=secret", { as: "a-admin" }));
      expect([asField.status, error(asField).source?.parameter]).toEqual([400, "fields[notes]"]);
      const asFilter = await keep(h.call("GET", `/api/v2/notes?filter[secret]=${SECRET}`, { as: "a-admin" }));
      expect([asFilter.status, error(asFilter).source?.parameter]).toEqual([400, "filter[secret]"]);
      const asSort = await keep(h.call("GET", "/api/v2/notes?sort=secret", { as: "a-admin" }));
      expect([asSort.status, error(asSort).source?.parameter]).toEqual([400, "sort"]);
      for (const raw of responses) {
        expect(raw).not.toContain(SECRET);
        expect(raw).not.toContain('"secret"');
      }
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
