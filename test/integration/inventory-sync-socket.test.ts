/**
 * The sync route over a real socket, where back-pressure is observable: while a chunk is being
 * ingested the route reads no further, so the sender is held back by TCP instead of Sonde buffering
 * its body; and a refusal of the first chunk reaches the client as a 403, not a reset connection.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { syncRoutes } from "../../src/api/inventory/sync-route.js";
import { emptyResult } from "../../src/domains/inventory/dire/types.js";
import type { UpdateIngest } from "../../src/domains/inventory/sync-batches.js";
import { systemActor } from "../../src/kernel/actor.js";
import { SondeError } from "../../src/lib/errors.js";
import { testHttpServer } from "../support/http-server.js";
import { sleep, waitFor } from "../support/wait.js";

const MiB = 1024 * 1024;
const LINE = `${JSON.stringify({ ip: "10.0.0.1", source: "bench", hostname: "h".repeat(60) })}\n`;
/** One MiB of NDJSON lines per pull. */
const PIECE = new TextEncoder().encode(LINE.repeat(Math.floor(MiB / LINE.length)));

describe("device sync over a socket", () => {
  let app: FastifyInstance;
  let url: string;
  let calls = 0;
  /** The first ingest call waits here; releasing it refuses the request (as a viewer's would be). */
  let release: () => void = () => {};

  beforeAll(async () => {
    const ingest: UpdateIngest = {
      async ingest(_ctx, raw) {
        calls += 1;
        await new Promise<void>((resolve) => (release = resolve));
        if (calls === 1) throw new SondeError("SONDE_FORBIDDEN", "not allowed to sync devices");
        return { ...emptyResult(), received: raw.length };
      },
    };
    app = await testHttpServer();
    await app.register(syncRoutes, {
      prefix: "/api/v2",
      ingest,
      resolveActor: async () => systemActor("socket-test"),
      maxBodyBytes: MiB,
      maxRecords: 100_000_000,
    });
    url = await app.listen({ port: 0, host: "127.0.0.1" });
  });
  afterAll(async () => app?.close());

  it("reads no further while a chunk is ingested, then answers the refusal with 403", async () => {
    let sentBytes = 0;
    const total = 512 * MiB;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sentBytes >= total) return controller.close();
        sentBytes += PIECE.byteLength;
        controller.enqueue(PIECE);
      },
    });
    const response = fetch(`${url}/api/v2/devices/sync`, {
      method: "POST",
      body,
      headers: { "content-type": "application/x-ndjson" },
      duplex: "half",
    } as RequestInit);
    await waitFor(() => calls === 1, 10_000, "the first chunk to be ingested");
    // Give the sender time to fill whatever buffers lie between it and the route, then check it stalls.
    await sleep(500);
    const stalledAt = sentBytes;
    await sleep(500);
    expect(sentBytes).toBe(stalledAt);
    expect(stalledAt).toBeLessThan(64 * MiB);
    release();
    const res = await response;
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
      "SONDE_FORBIDDEN",
    );
    expect(calls).toBe(1);
  }, 30_000);
});
