/**
 * Cross-tenant probes: an admin of tenant B aims every route shape at tenant A's records. Each must
 * behave as if the records did not exist (404 by id, nothing in lists, filters or includes), and
 * tenant A's records must come out unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { serviceGate } from "../support/services.js";
import { error, type Harness, many, noteDoc, one, openHarness, type Res } from "./jsonapi-harness.js";

const A_TITLE = "tenant-a-confidential";

function suite(target: DatabaseTarget) {
  describe(`JSON:API cross-tenant probes: ${target.name}`, () => {
    let h: Harness;
    let noteA: string;
    let commentA: string;
    let noteB: string;
    const asB = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, body?: unknown) =>
      h.call(method, url, { as: "b-admin", ...(body !== undefined ? { body } : {}) });
    const notFound = (res: Res) => {
      expect([res.status, error(res).code]).toEqual([404, "SONDE_NOT_FOUND"]);
      expect(res.raw).not.toContain(A_TITLE);
    };

    beforeAll(async () => {
      h = await openHarness(target);
      noteA = one(
        await h.call("POST", "/api/v2/notes", {
          as: "a-admin",
          body: noteDoc({ title: A_TITLE, owner_id: "x", priority: 7 }),
        }),
      ).id;
      commentA = one(
        await h.call("POST", "/api/v2/comments", {
          as: "a-admin",
          body: { data: { type: "comments", attributes: { note_id: noteA, body: "a comment", score: 1 } } },
        }),
      ).id;
      noteB = one(
        await h.call("POST", "/api/v2/notes", {
          as: "b-admin",
          body: noteDoc({ title: "tenant-b-own", owner_id: "x" }),
        }),
      ).id;
    });
    afterAll(async () => h?.close());

    it("lists, filters and sorts only the caller's tenant", async () => {
      const list = await asB("GET", "/api/v2/notes?page[size]=1000&sort=-priority");
      expect(many(list).map((n) => n.id)).toEqual([noteB]);
      expect(many(await asB("GET", `/api/v2/notes?filter[title]=${A_TITLE}`))).toEqual([]);
      expect(many(await asB("GET", `/api/v2/notes?filter[id]=${noteA}`))).toEqual([]);
      expect(many(await asB("GET", "/api/v2/notes?filter[priority][gte]=7"))).toEqual([]);
      expect(many(await asB("GET", "/api/v2/comments"))).toEqual([]);
      expect(many(await asB("GET", `/api/v2/comments?filter[note_id]=${noteA}`))).toEqual([]);
    });

    it("answers 404 for another tenant's record on every by-id route", async () => {
      notFound(await asB("GET", `/api/v2/notes/${noteA}`));
      notFound(await asB("GET", `/api/v2/notes/${noteA}?include=comments`));
      notFound(
        await asB("PATCH", `/api/v2/notes/${noteA}`, {
          data: { type: "notes", id: noteA, attributes: { priority: 1 } },
        }),
      );
      notFound(await asB("DELETE", `/api/v2/notes/${noteA}`));
      notFound(await asB("POST", `/api/v2/notes/${noteA}/publish`));
      notFound(await asB("POST", `/api/v2/notes/${noteA}/archive`, { meta: {} }));
      notFound(await asB("GET", `/api/v2/notes/${noteA}/history`));
      notFound(await asB("GET", `/api/v2/notes/${noteA}/relationships/comments`));
      notFound(await asB("GET", `/api/v2/notes/${noteA}/comments`));
      notFound(await asB("GET", `/api/v2/comments/${commentA}`));
      notFound(
        await asB("PATCH", `/api/v2/comments/${commentA}`, {
          data: { type: "comments", id: commentA, attributes: { score: 9 } },
        }),
      );
      notFound(await asB("DELETE", `/api/v2/comments/${commentA}`));
      notFound(await asB("GET", `/api/v2/comments/${commentA}/note`));
      notFound(await asB("GET", `/api/v2/comments/${commentA}/relationships/note`));
    });

    it("never includes another tenant's records", async () => {
      const own = await asB("GET", `/api/v2/notes/${noteB}?include=comments`);
      expect(own.doc.included).toEqual([]);
      // A tenant-B comment whose note_id names tenant A's note (foreign keys are checked by PostgreSQL
      // without row-level security, so the kernel may let it in): including its note must not leak it.
      const sneaky = await asB("POST", "/api/v2/comments", {
        data: { type: "comments", attributes: { note_id: noteA, body: "probe" } },
      });
      const listed = await asB("GET", "/api/v2/comments?include=note");
      expect(listed.doc.included ?? []).toEqual([]);
      expect(listed.raw).not.toContain(A_TITLE);
      if (sneaky.status === 201) {
        const id = one(sneaky).id;
        const related = await asB("GET", `/api/v2/comments/${id}/note`);
        expect(related.doc.data).toBeNull();
        const single = await asB("GET", `/api/v2/comments/${id}?include=note`);
        expect(single.doc.included).toEqual([]);
        expect(single.raw).not.toContain(A_TITLE);
      }
    });

    it("leaves tenant A's records unchanged", async () => {
      const note = one(
        await h.call("GET", `/api/v2/notes/${noteA}?fields[notes]=title,priority,state,comment_count`, {
          as: "a-admin",
        }),
      );
      expect(note.attributes).toEqual({ title: A_TITLE, priority: 7, state: "draft", comment_count: 1 });
      const history = await h.call("GET", `/api/v2/notes/${noteA}/history`, { as: "a-admin" });
      expect(history.doc.meta?.history).toEqual([]);
      expect(
        one(await h.call("GET", `/api/v2/comments/${commentA}`, { as: "a-admin" })).attributes.score,
      ).toBe(1);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
