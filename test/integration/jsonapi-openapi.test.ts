import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { serviceGate } from "../support/services.js";
import { type Harness, openHarness } from "./jsonapi-harness.js";

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
}

function suite(target: DatabaseTarget) {
  describe(`OpenAPI document and docs page: ${target.name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => h?.close());

    it("serves an OpenAPI 3.1 document that passes the validator", async () => {
      const res = await h.app.inject({ method: "GET", url: "/api/v2/openapi.json" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      const doc = res.json<OpenApiDoc>();
      const validator = new Validator();
      const result = await validator.validate(res.json<Record<string, unknown>>());
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
      expect(validator.version).toBe("3.1");
      // Every $ref points at a component that exists.
      const text = JSON.stringify(doc);
      for (const m of text.matchAll(/"\$ref":"#\/components\/(\w+)\/([^"]+)"/g)) {
        const [, kind = "", name = ""] = m;
        expect(
          (doc.components as unknown as Record<string, Record<string, unknown>>)[kind]?.[name],
          `${kind}/${name}`,
        ).toBeDefined();
      }
    });

    it("describes exactly the routes the server serves, from the declarations", async () => {
      const doc = (await h.app.inject({ method: "GET", url: "/api/v2/openapi.json" })).json<OpenApiDoc>();
      expect(Object.keys(doc.paths).sort()).toEqual(
        [
          "/audit-events",
          "/audit-events/{id}",
          "/comments",
          "/comments/{id}",
          "/comments/{id}/note",
          "/comments/{id}/relationships/note",
          "/notes",
          "/notes/{id}",
          "/notes/{id}/archive",
          "/notes/{id}/comments",
          "/notes/{id}/history",
          "/notes/{id}/publish",
          "/notes/{id}/relationships/comments",
        ].sort(),
      );
      expect(Object.keys(doc.paths["/notes"] ?? {}).sort()).toEqual(["get", "post"]);
      expect(Object.keys(doc.paths["/notes/{id}"] ?? {}).sort()).toEqual([
        "delete",
        "get",
        "parameters",
        "patch",
      ]);
      const attrs = doc.components.schemas.NoteAttributes?.properties ?? {};
      expect(Object.keys(attrs)).toEqual(
        expect.arrayContaining(["title", "tags", "display_name", "comment_count"]),
      );
      expect(attrs).not.toHaveProperty("secret");
      expect(attrs).not.toHaveProperty("tenant_id");
      expect(attrs.tags).toEqual({ type: "array", items: { type: "string" } });
      expect(attrs.body).toEqual({ type: ["string", "null"] });
      const create = JSON.stringify(doc.components.schemas.NoteCreate);
      expect(create).toContain('"maxLength":200');
      expect(create).toContain('"required":["title","owner_id"]');
      expect(JSON.stringify(doc.components.schemas.NotePublishRequest)).toContain(
        '"note":{"type":"string","maxLength":100}',
      );

      // Each documented path answers (not 404 for a missing route) when called.
      const note = await h.call("POST", "/api/v2/notes", {
        as: "a-admin",
        body: { data: { type: "notes", attributes: { title: "doc", owner_id: "x" } } },
      });
      const id = (note.doc.data as { id: string }).id;
      for (const [p, item] of Object.entries(doc.paths)) {
        if (!("get" in item) || !p.startsWith("/notes")) continue;
        const res = await h.call("GET", `/api/v2${p.replace("{id}", id)}`, { as: "a-admin" });
        expect([p, res.status]).toEqual([p, 200]);
      }
    });

    it("serves a self-contained HTML reference at /api/v2/docs", async () => {
      const res = await h.app.inject({ method: "GET", url: "/api/v2/docs" });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/html/);
      expect(res.body).toMatch(/^<!doctype html>/);
      for (const text of ["/notes/{id}/publish", "page[size]", "NoteAttributes", "SONDE", "Bearer"]) {
        expect(res.body).toContain(text);
      }
      // Nothing is fetched from elsewhere: no external scripts, styles or fonts.
      expect(res.body).not.toMatch(/<script|https?:\/\/(?!jsonapi)/);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
