import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { serviceGate } from "../support/services.js";
import {
  error,
  type Harness,
  many,
  MEDIA,
  noteDoc,
  one,
  openHarness,
  type ResourceObj,
  type Res,
} from "./jsonapi-harness.js";

/** The path and query of an absolute link, for following it with inject. */
function path(link: string): string {
  const u = new URL(link);
  return `${u.pathname}${u.search}`;
}

function suite(target: DatabaseTarget) {
  describe(`JSON:API queries and negotiation: ${target.name}`, () => {
    let h: Harness;
    const ids: Record<string, string> = {};
    const get = (url: string, as = "a-admin") => h.call("GET", url, { as });
    const titles = (res: Res) => many(res).map((n) => n.attributes.title);

    beforeAll(async () => {
      h = await openHarness(target);
      const notes: [string, Record<string, unknown>][] = [
        ["alpha", { priority: 1, tags: ["net", "core"], body: "first body" }],
        ["beta", { priority: 5, tags: ["core"], visibility: "private" }],
        ["gamma", { priority: 9, tags: [], body: "third" }],
      ];
      for (const [title, extra] of notes) {
        ids[title] = one(
          await h.call("POST", "/api/v2/notes", {
            as: "a-admin",
            body: noteDoc({ title, owner_id: "x", ...extra }),
          }),
        ).id;
      }
      for (const [note, score] of [
        ["alpha", 3],
        ["alpha", 7],
        ["beta", 4],
      ] as const) {
        const c = await h.call("POST", "/api/v2/comments", {
          as: "a-admin",
          body: {
            data: {
              type: "comments",
              attributes: { body: `on ${note}`, score },
              relationships: { note: { data: { type: "notes", id: ids[note] } } },
            },
          },
        });
        expect(c.status).toBe(201);
      }
    });
    afterAll(async () => h?.close());

    it("filters with equality and operators, coercing values by type", async () => {
      expect(titles(await get("/api/v2/notes?filter[title]=alpha"))).toEqual(["alpha"]);
      expect(titles(await get("/api/v2/notes?filter[priority][gt]=1&sort=title"))).toEqual(["beta", "gamma"]);
      expect(titles(await get("/api/v2/notes?filter[priority][lte]=5&sort=title"))).toEqual([
        "alpha",
        "beta",
      ]);
      expect(titles(await get("/api/v2/notes?filter[title][in]=alpha,gamma&sort=title"))).toEqual([
        "alpha",
        "gamma",
      ]);
      expect(titles(await get("/api/v2/notes?filter[tags][contains]=core&sort=title"))).toEqual([
        "alpha",
        "beta",
      ]);
      expect(titles(await get("/api/v2/notes?filter[title][contains]=amm"))).toEqual(["gamma"]);
      expect(titles(await get("/api/v2/notes?filter[title][like]=al%25"))).toEqual(["alpha"]);
      expect(titles(await get("/api/v2/notes?filter[body][is_null]=true"))).toEqual(["beta"]);
      expect(
        titles(await get("/api/v2/notes?filter[locked]=false&filter[priority][ne]=5&sort=-priority")),
      ).toEqual(["gamma", "alpha"]);
      expect(titles(await get(`/api/v2/notes?filter[id]=${ids.beta}`))).toEqual(["beta"]);
      expect(
        titles(await get("/api/v2/notes?filter[created_at][lt]=2999-01-01T00:00:00Z&filter[title]=gamma")),
      ).toEqual(["gamma"]);
      // A calculation and an aggregate filter like attributes.
      expect(titles(await get("/api/v2/notes?filter[display_name]=beta"))).toEqual(["beta"]);
      expect(titles(await get("/api/v2/notes?filter[comment_count][gte]=1&sort=title"))).toEqual([
        "alpha",
        "beta",
      ]);
      // The viewer's policy still applies under a filter.
      expect(titles(await get("/api/v2/notes?filter[title]=beta", "a-viewer"))).toEqual([]);
    });

    it("refuses malformed filters naming the parameter", async () => {
      const cases: [string, string][] = [
        ["filter[nope]=1", "filter[nope]"],
        ["filter[priority][gt]=high", "filter[priority][gt]"],
        ["filter[priority][between]=1", "filter[priority][between]"],
        ["filter[id]=not-a-uuid", "filter[id]"],
        ["filter[locked]=maybe", "filter[locked]"],
        ["filter[created_at][gt]=yesterday", "filter[created_at][gt]"],
        ["filter[tags]=core", "filter[tags]"],
        ["filter[title][is_null]=yes", "filter[title][is_null]"],
        ["filter=alpha", "filter"],
        ["filter[title]=a&filter[title]=b", "filter[title]"],
        ["colour=red", "colour"],
      ];
      for (const [query, parameter] of cases) {
        const res = await get(`/api/v2/notes?${query}`);
        expect([query, res.status, error(res).code, error(res).source?.parameter]).toEqual([
          query,
          400,
          "SONDE_BAD_REQUEST",
          parameter,
        ]);
      }
    });

    it("sorts by several fields, descending with -", async () => {
      expect(titles(await get("/api/v2/notes?sort=-priority"))).toEqual(["gamma", "beta", "alpha"]);
      expect(titles(await get("/api/v2/notes?sort=-comment_count,title"))).toEqual([
        "alpha",
        "beta",
        "gamma",
      ]);
      for (const bad of ["nope", "-", "tags", "title,,priority"]) {
        const res = await get(`/api/v2/notes?sort=${bad}`);
        expect([res.status, error(res).source?.parameter]).toEqual([400, "sort"]);
      }
    });

    it("walks every record exactly once with page[after] under a sort with ties", async () => {
      const created: string[] = [];
      for (let i = 0; i < 23; i++) {
        const res = await h.call("POST", "/api/v2/notes", {
          as: "b-admin",
          body: noteDoc({ title: `walk-${String(i).padStart(2, "0")}`, owner_id: "x", priority: i % 3 }),
        });
        created.push(one(res).id);
      }
      const seen: ResourceObj[] = [];
      let url: string | null = "/api/v2/notes?sort=-priority&page[size]=5";
      let pages = 0;
      while (url !== null) {
        const res = await get(url, "b-admin");
        expect(res.status).toBe(200);
        seen.push(...many(res));
        const next: string | null | undefined = res.doc.links?.next;
        url = typeof next === "string" ? path(next) : null;
        pages++;
        expect(pages).toBeLessThan(10);
      }
      expect(pages).toBe(5);
      expect(seen.map((n) => n.id).sort()).toEqual([...created].sort());
      const priorities = seen.map((n) => Number(n.attributes.priority));
      expect(priorities).toEqual([...priorities].sort((a, b) => b - a));

      const second = await get("/api/v2/notes?sort=-priority&page[size]=5&page[number]=2", "b-admin");
      expect(many(second).map((n) => n.id)).toEqual(seen.slice(5, 10).map((n) => n.id));
      expect(new URL(second.doc.links?.next ?? "").searchParams.get("page[number]")).toBe("3");
      const last = await get("/api/v2/notes?sort=-priority&page[size]=5&page[number]=5", "b-admin");
      expect([many(last).length, last.doc.links?.next]).toEqual([3, null]);

      for (const [query, parameter] of [
        ["page[size]=0", "page[size]"],
        ["page[size]=1001", "page[size]"],
        ["page[size]=ten", "page[size]"],
        ["page[number]=0", "page[number]"],
        ["page[after]=garbage", "page[after]"],
        ["page[offset]=3", "page[offset]"],
        ["page[after]=x&page[number]=2", "page[number]"],
      ]) {
        const res = await get(`/api/v2/notes?${query}`, "b-admin");
        expect([query, res.status, error(res).source?.parameter]).toEqual([query, 400, parameter]);
      }
    });

    it("includes related records with full linkage, under the related resource's policy", async () => {
      const res = await get(`/api/v2/notes?include=comments&filter[title][in]=alpha,gamma&sort=title`);
      const [alpha, gamma] = many(res);
      expect((alpha?.relationships?.comments?.data as unknown[]).length).toBe(2);
      expect(gamma?.relationships?.comments?.data).toEqual([]);
      expect(res.doc.included?.map((c) => c.type)).toEqual(["comments", "comments"]);

      const comments = await get("/api/v2/comments?include=note&sort=score");
      expect(comments.doc.included?.map((n) => n.attributes.title).sort()).toEqual(["alpha", "beta"]);
      expect(many(comments)[0]?.relationships?.note?.data).toEqual({ type: "notes", id: ids.alpha });

      // A viewer sees every comment, but not the private note "beta" they belong to.
      const viewer = await get("/api/v2/comments?include=note", "a-viewer");
      expect(many(viewer)).toHaveLength(3);
      expect(viewer.doc.included?.map((n) => n.attributes.title)).toEqual(["alpha"]);

      const single = await get(`/api/v2/notes/${ids.alpha}?include=comments`);
      expect(single.doc.included).toHaveLength(2);
      for (const bad of ["nope", "comments.note", "comments,nope"]) {
        const r = await get(`/api/v2/notes?include=${bad}`);
        expect([r.status, error(r).source?.parameter]).toEqual([400, "include"]);
      }
    });

    it("restricts attributes with fields[type] and loads aggregates named there", async () => {
      const res = await get(
        `/api/v2/notes/${ids.alpha}?fields[notes]=title,comment_count,top_score&include=comments&fields[comments]=score`,
      );
      const note = one(res);
      expect(note.attributes).toEqual({ title: "alpha", comment_count: 2, top_score: 7 });
      expect(note.relationships).toBeUndefined();
      expect(res.doc.included?.map((c) => c.attributes)).toEqual(
        expect.arrayContaining([{ score: 3 }, { score: 7 }]),
      );
      const list = await get("/api/v2/notes?fields[notes]=&filter[title]=gamma");
      expect(many(list)[0]?.attributes).toEqual({});
      for (const [query, parameter] of [
        ["fields[notes]=nope", "fields[notes]"],
        ["fields[widgets]=a", "fields[widgets]"],
        ["fields=title", "fields"],
      ]) {
        const r = await get(`/api/v2/notes?${query}`);
        expect([r.status, error(r).source?.parameter]).toEqual([400, parameter]);
      }
    });

    it("serves relationship linkage and related records", async () => {
      const linkage = await get(`/api/v2/notes/${ids.alpha}/relationships/comments`);
      expect((linkage.doc.data as unknown[]).length).toBe(2);
      const related = await get(`/api/v2/notes/${ids.alpha}/comments?sort=-score&page[size]=1`);
      expect(many(related).map((c) => c.attributes.score)).toEqual([7]);
      expect(related.doc.links?.next).toMatch(/page%5Bafter%5D=/);
      const comment = many(related)[0];
      const toOne = await get(`/api/v2/comments/${comment?.id}/relationships/note`);
      expect(toOne.doc.data).toEqual({ type: "notes", id: ids.alpha });
      const note = await get(`/api/v2/comments/${comment?.id}/note`);
      expect(one(note).attributes.title).toBe("alpha");
      // The comment on the private note is visible to a viewer; its note is not.
      const onBeta = many(await get(`/api/v2/comments?filter[note_id]=${ids.beta}`, "a-viewer"))[0];
      expect((await get(`/api/v2/comments/${onBeta?.id}/note`, "a-viewer")).doc.data).toBeNull();
    });

    it("negotiates content as JSON:API 1.0 requires (415, 406)", async () => {
      const body = noteDoc({ title: "neg", owner_id: "x" });
      const withParams = await h.call("POST", "/api/v2/notes", {
        as: "a-admin",
        body,
        headers: { "content-type": `${MEDIA}; charset=utf-8` },
      });
      expect([withParams.status, error(withParams).code]).toEqual([415, "SONDE_UNSUPPORTED_MEDIA_TYPE"]);
      const plainJson = await h.call("POST", "/api/v2/notes", {
        as: "a-admin",
        body,
        headers: { "content-type": "application/json" },
      });
      expect(plainJson.status).toBe(415);
      const patchParams = await h.call("PATCH", `/api/v2/notes/${ids.alpha}`, {
        as: "a-admin",
        body: { data: { type: "notes", id: ids.alpha, attributes: {} } },
        headers: { "content-type": `${MEDIA}; ext=bulk` },
      });
      expect(patchParams.status).toBe(415);

      const onlyParams = await h.call("GET", "/api/v2/notes", {
        as: "a-admin",
        headers: { accept: `${MEDIA}; ext=bulk` },
      });
      expect([onlyParams.status, error(onlyParams).code]).toEqual([406, "SONDE_NOT_ACCEPTABLE"]);
      for (const accept of [`${MEDIA}; ext=bulk, ${MEDIA}`, "*/*", "application/json", `${MEDIA};q=0.9`]) {
        const ok = await h.call("GET", "/api/v2/notes", { as: "a-admin", headers: { accept } });
        expect([accept, ok.status]).toEqual([accept, 200]);
        expect(ok.headers["content-type"]).toBe(MEDIA);
      }
      // The created record did not come into being through the refused requests.
      expect(many(await get("/api/v2/notes?filter[title]=neg"))).toEqual([]);
      expect((await h.call("POST", "/api/v2/notes", { as: "a-admin", body })).status).toBe(201);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
