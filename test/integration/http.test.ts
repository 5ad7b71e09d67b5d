import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { buildHttpServer } from "../../src/api/http/server.js";
import { SondeError } from "../../src/lib/errors.js";
import type { ReadinessCheck } from "../../src/platform/health.js";
import { createMetrics } from "../../src/platform/metrics/registry.js";

const logger = pino({ level: "silent" });
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function server(readiness: ReadinessCheck[] = [], draining = false): Promise<FastifyInstance> {
  app = await buildHttpServer({
    logger,
    metrics: createMetrics({ version: "test", node: "n", roles: ["core"] }),
    readiness,
    bodyLimitBytes: 1024,
    home: true,
    isDraining: () => draining,
  });
  // A body-parsing route and a failing route, to exercise the shell's error mapping.
  app.post("/echo", async (request) => ({ got: request.body }));
  app.get("/boom", async () => {
    throw new Error("db password=hunter2 at 10.1.2.3");
  });
  app.get("/conflict", async () => {
    throw new SondeError("SONDE_CONFLICT", "name is already taken", { pointer: "/data/attributes/name" });
  });
  return app;
}

describe("HTTP shell", () => {
  it("answers 413 with a catalogue error for an oversized body, and loses nothing of a valid one", async () => {
    const a = await server();
    const big = await a.inject({ method: "POST", url: "/echo", payload: { x: "y".repeat(4096) } });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ errors: [{ status: "413", code: "SONDE_PAYLOAD_TOO_LARGE" }] });
    const ok = await a.inject({ method: "POST", url: "/echo", payload: { x: "ü€" } });
    expect(ok.json()).toEqual({ got: { x: "ü€" } });
  });

  it("answers 400 for malformed JSON and 415 for an unsupported content type", async () => {
    const a = await server();
    const bad = await a.inject({
      method: "POST",
      url: "/echo",
      headers: { "content-type": "application/json" },
      payload: "{ not json",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      errors: [{ code: "SONDE_BAD_REQUEST", detail: "the request body is not valid JSON" }],
    });
    const xml = await a.inject({
      method: "POST",
      url: "/echo",
      headers: { "content-type": "application/xml" },
      payload: "<x/>",
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json()).toMatchObject({ errors: [{ code: "SONDE_UNSUPPORTED_MEDIA_TYPE" }] });
  });

  it("hides internal error text behind SONDE_INTERNAL", async () => {
    const a = await server();
    const res = await a.inject({ method: "GET", url: "/boom" });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({
      errors: [
        {
          status: "500",
          code: "SONDE_INTERNAL",
          title: "Internal error",
          detail: "internal error",
          meta: { retryable: false },
        },
      ],
    });
    expect(res.body).not.toContain("hunter2");
  });

  it("passes catalogue errors through with their status and source pointer", async () => {
    const a = await server();
    const res = await a.inject({ method: "GET", url: "/conflict" });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      errors: [
        {
          code: "SONDE_CONFLICT",
          detail: "name is already taken",
          source: { pointer: "/data/attributes/name" },
        },
      ],
    });
  });

  it("reports readiness per check: failed, timed out, and ok", async () => {
    const a = await server([
      { name: "database", check: async () => {} },
      {
        name: "bus",
        check: async () => {
          throw new Error("nats down");
        },
      },
      { name: "jobs", check: () => new Promise(() => {}) },
    ]);
    const res = await a.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({
      status: "not ready",
      ready: false,
      checks: { database: "ok", bus: "failed", jobs: "timeout" },
    });
    expect(res.body).not.toContain("nats down");
  });

  it("turns /readyz 503 while draining but keeps /healthz 200", async () => {
    const a = await server([{ name: "database", check: async () => {} }], true);
    expect((await a.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(503);
    expect((await a.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });
});
