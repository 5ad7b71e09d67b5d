/**
 * `POST /devices/sync` (registered under /api/v2): device updates in bulk, for integrations and
 * scripts. The body is a JSON array (or one update object), read whole up to maxBodyBytes, or an
 * NDJSON stream of any length, read line by line: each chunk is ingested before more of the body is
 * read, so a slow database slows the client instead of filling memory. Validation, reconciliation
 * and authorization are DIRE's and the kernel's (docs/sync.md); this route only frames records.
 */
import { Readable } from "node:stream";
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import { isSondeError, SondeError } from "../../lib/errors.js";
import { ndjsonLines } from "../../lib/ndjson.js";
import type { Actor } from "../../kernel/actor.js";
import {
  DEFAULT_SYNC_LIMITS,
  SyncBatches,
  type SyncLimits,
  type UpdateIngest,
} from "../../domains/inventory/sync-batches.js";
import { type ActorResolver, authenticate } from "../auth/actor.js";

export interface SyncRoutesOptions {
  readonly ingest: UpdateIngest;
  readonly resolveActor: ActorResolver;
  /** Largest JSON body (SONDE_SYNC_MAX_BODY_BYTES); NDJSON is unbounded in size. */
  readonly maxBodyBytes: number;
  /** Records per request (SONDE_SYNC_MAX_RECORDS), either format. */
  readonly maxRecords: number;
  /** Longest NDJSON line (one update); default 1 MiB. */
  readonly maxLineBytes?: number;
  /** Records per ingest call; default 1,000. */
  readonly chunkSize?: number;
}

const JSON_TYPE = "application/json";
const NDJSON_TYPES = ["application/x-ndjson", "application/jsonl"];
const MAX_LINE_BYTES = 1024 * 1024;

function mediaType(request: FastifyRequest): string {
  return (request.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** The records of a JSON body: an array's elements, or the one update object. */
function jsonRecords(body: unknown): readonly unknown[] {
  if (Array.isArray(body)) return body;
  if (typeof body === "object" && body !== null) return [body];
  throw new SondeError(
    "SONDE_BAD_REQUEST",
    "the body must be a JSON array of device updates or one device update object",
  );
}

export const syncRoutes: FastifyPluginAsync<SyncRoutesOptions> = async (app, opts) => {
  const limits: SyncLimits = {
    ...DEFAULT_SYNC_LIMITS,
    maxRecords: opts.maxRecords,
    ...(opts.chunkSize === undefined ? {} : { chunkSize: opts.chunkSize }),
  };
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const actors = new WeakMap<FastifyRequest, Actor>();

  // The request stream itself becomes the body: the handler reads it as it ingests.
  app.addContentTypeParser(NDJSON_TYPES, (_request, payload, done) => {
    done(null, payload);
  });

  app.post(
    "/devices/sync",
    {
      bodyLimit: opts.maxBodyBytes,
      // Before the body is read: who may not send one (415, 401) never makes Sonde read it.
      onRequest: async (request, reply) => {
        const type = mediaType(request);
        if (type !== JSON_TYPE && !NDJSON_TYPES.includes(type)) {
          throw new SondeError(
            "SONDE_UNSUPPORTED_MEDIA_TYPE",
            `send device updates as ${JSON_TYPE} (an array) or ${NDJSON_TYPES.join(" / ")} (one per line)`,
          );
        }
        try {
          actors.set(request, await authenticate(request, opts.resolveActor));
        } catch (err) {
          if (isSondeError(err, "SONDE_UNAUTHENTICATED"))
            void reply.header("www-authenticate", 'Bearer realm="sonde"');
          throw err;
        }
      },
    },
    async (request, reply) => {
      const actor = actors.get(request);
      if (actor === undefined) throw new SondeError("SONDE_INTERNAL", "sync request reached unauthenticated");
      const batches = new SyncBatches(opts.ingest, { actor }, limits);
      if (mediaType(request) === JSON_TYPE) {
        for (const record of jsonRecords(request.body)) await batches.add(record);
      } else {
        const body = request.body;
        if (!(body instanceof Readable))
          throw new SondeError("SONDE_INTERNAL", "NDJSON body is not a stream");
        // Not destroyed when reading stops early (a 403 on the first chunk): destroying the request
        // would reset the connection before the error response is written.
        const source = body.iterator({ destroyOnReturn: false }) as AsyncIterable<Uint8Array>;
        try {
          for await (const line of ndjsonLines(source, { maxLineBytes })) {
            if (line.kind === "value") await batches.add(line.value);
            else await batches.reject(line.reason);
          }
        } catch (err) {
          // The rest of the body is not read: the connection cannot carry another request.
          void reply.header("connection", "close");
          throw err;
        }
      }
      const report = await batches.finish();
      request.log.info(
        {
          received: report.received,
          created: report.created,
          updated: report.updated,
          merged: report.merged,
          deleted: report.deleted,
          rejected: report.rejected_count,
        },
        "device sync",
      );
      return reply.status(200).type(JSON_TYPE).send(report);
    },
  );
};
