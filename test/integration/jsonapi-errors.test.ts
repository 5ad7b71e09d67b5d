import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DatabaseTarget, embeddedTarget, postgresTarget } from "../support/databases.js";
import { serviceGate } from "../support/services.js";
import { error, type Harness, many, noteDoc, one, openHarness } from "./jsonapi-harness.js";

function suite(target: DatabaseTarget) {
  describe(`JSON:API errors: ${target.name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await openHarness(target);
    });
    afterAll(async () => h?.close());
    it("points validation errors at the offending member", async () => {
      const post = (attributes: Record<string, unknown>) =>
        h.call("POST", "/api/v2/notes", { as: "a-admin", body: noteDoc(attributes) });
      const unknown = await post({ title: "v1", owner_id: "x", colour: "red" });
      expect([unknown.status, error(unknown).code, error(unknown).source?.pointer]).toEqual([
        422,
        "SONDE_VALIDATION_FAILED",
        "/data/attributes/colour",
      ]);
      const wrongType = await post({ title: "v2", owner_id: "x", priority: "high" });
      expect([wrongType.status, error(wrongType).source?.pointer]).toEqual([
        422,
        "/data/attributes/priority",
      ]);
      const tooLong = await post({ title: "t".repeat(201), owner_id: "x" });
      expect([tooLong.status, error(tooLong).source?.pointer]).toEqual([422, "/data/attributes/title"]);
      const missing = await post({ owner_id: "x" });
      expect([missing.status, error(missing).source?.pointer]).toEqual([422, "/data/attributes/title"]);
      const notSettable = await post({ title: "v3", owner_id: "x", state: "archived" });
      expect([notSettable.status, error(notSettable).source?.pointer]).toEqual([
        422,
        "/data/attributes/state",
      ]);

      const wrongDocType = await h.call("POST", "/api/v2/notes", {
        as: "a-admin",
        body: { data: { type: "comments", attributes: {} } },
      });
      expect([wrongDocType.status, error(wrongDocType).code, error(wrongDocType).source?.pointer]).toEqual([
        409,
        "SONDE_CONFLICT",
        "/data/type",
      ]);
      const clientId = await h.call("POST", "/api/v2/notes", {
        as: "a-admin",
        body: {
          data: {
            type: "notes",
            id: "2f1f7a43-8f0e-4c4a-9a53-3a4e1f0b8f11",
            attributes: { title: "v4", owner_id: "x" },
          },
        },
      });
      expect([clientId.status, error(clientId).source?.pointer]).toEqual([403, "/data/id"]);
      const notADocument = await h.call("POST", "/api/v2/notes", { as: "a-admin", body: [1, 2] });
      expect([notADocument.status, error(notADocument).source?.pointer]).toEqual([400, ""]);
      const noData = await h.call("POST", "/api/v2/notes", { as: "a-admin", body: { attributes: {} } });
      expect([noData.status, error(noData).source?.pointer]).toEqual([400, "/attributes"]);
      const badJson = await h.call("POST", "/api/v2/notes", { as: "a-admin", body: "{ nope" });
      expect([badJson.status, error(badJson).code]).toEqual([400, "SONDE_BAD_REQUEST"]);

      const note = one(await post({ title: "v5", owner_id: "x" }));
      const idMismatch = await h.call("PATCH", `/api/v2/notes/${note.id}`, {
        as: "a-admin",
        body: { data: { type: "notes", id: "00000000-0000-4000-8000-000000000000", attributes: {} } },
      });
      expect([idMismatch.status, error(idMismatch).source?.pointer]).toEqual([409, "/data/id"]);
      const noId = await h.call("PATCH", `/api/v2/notes/${note.id}`, {
        as: "a-admin",
        body: { data: { type: "notes", attributes: {} } },
      });
      expect([noId.status, error(noId).source?.pointer]).toEqual([400, "/data/id"]);
      const tooHigh = await h.call("PATCH", `/api/v2/notes/${note.id}`, {
        as: "a-admin",
        body: { data: { type: "notes", id: note.id, attributes: { priority: 11 } } },
      });
      expect([tooHigh.status, error(tooHigh).source?.pointer]).toEqual([422, "/data/attributes/priority"]);
    });

    it("answers a unique violation with 409 naming title", async () => {
      const first = await h.call("POST", "/api/v2/notes", {
        as: "a-admin",
        body: noteDoc({ title: "dup", owner_id: "x" }),
      });
      expect(first.status).toBe(201);
      const second = await h.call("POST", "/api/v2/notes", {
        as: "a-admin",
        body: noteDoc({ title: "dup", owner_id: "y" }),
      });
      expect(second.status).toBe(409);
      expect(error(second)).toMatchObject({
        code: "SONDE_DB_UNIQUE_VIOLATION",
        source: { pointer: "/data/attributes/title" },
        meta: { field: "title" },
      });
      expect(error(second).detail).toBe("title is already taken");
      // The same title in the other tenant is no conflict.
      expect(
        (
          await h.call("POST", "/api/v2/notes", {
            as: "b-admin",
            body: noteDoc({ title: "dup", owner_id: "x" }),
          })
        ).status,
      ).toBe(201);
      const other = one(
        await h.call("POST", "/api/v2/notes", {
          as: "a-admin",
          body: noteDoc({ title: "dup-2", owner_id: "x" }),
        }),
      );
      const renamed = await h.call("PATCH", `/api/v2/notes/${other.id}`, {
        as: "a-admin",
        body: { data: { type: "notes", id: other.id, attributes: { title: "dup" } } },
      });
      expect([renamed.status, error(renamed).source?.pointer]).toEqual([409, "/data/attributes/title"]);
    });

    it("answers 401 without credentials, with malformed ones and with unknown ones", async () => {
      const none = await h.call("GET", "/api/v2/notes");
      expect([none.status, error(none).code]).toEqual([401, "SONDE_UNAUTHENTICATED"]);
      expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
      for (const header of ["Token abc", "Bearer", "Bearer a b", "Basic dXNlcjpwYXNz"]) {
        const res = await h.call("GET", "/api/v2/notes", { headers: { authorization: header } });
        expect([res.status, error(res).code]).toEqual([401, "SONDE_UNAUTHENTICATED"]);
        expect(error(res).detail).toContain("malformed");
      }
      const unknown = await h.call("GET", "/api/v2/notes", { as: "not-a-token" });
      expect([unknown.status, error(unknown).detail]).toEqual([401, "the bearer token is not valid"]);
      // Writes are refused before anything is parsed or run.
      const write = await h.call("POST", "/api/v2/notes", {
        body: noteDoc({ title: "anon", owner_id: "x" }),
      });
      expect(write.status).toBe(401);
      const list = many(await h.call("GET", "/api/v2/notes?filter[title]=anon", { as: "a-admin" }));
      expect(list).toEqual([]);
    });
  });
}

suite(embeddedTarget);
if (serviceGate("postgres").run) suite(postgresTarget);
