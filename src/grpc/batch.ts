import { z } from "zod";

/**
 * The batch a poller sends in ResultsRequest.details for GetResults/StreamResults, and the results
 * the agent sends back (JSON array in ResultsResponse.data, or across ResultsChunk.data).
 */
export const batchCheckSchema = z.strictObject({
  service_name: z.string().max(255).default(""),
  service_type: z.string().min(1).max(64),
  details: z.string().max(4096),
  port: z.number().int().min(0).max(65535).optional(),
  timeout_ms: z.number().int().positive().max(300_000).optional(),
});
export type BatchCheck = z.input<typeof batchCheckSchema>;

export const batchSchema = z.strictObject({ checks: z.array(batchCheckSchema) });

export interface BatchResult {
  readonly service_name: string;
  readonly service_type: string;
  readonly available: boolean;
  /** Nanoseconds. */
  readonly response_time: number;
  /** What GetStatus would return as its message for this check. */
  readonly message: Readonly<Record<string, unknown>>;
  readonly error?: string;
}

export const batchResultSchema = z.object({
  service_name: z.string(),
  service_type: z.string(),
  available: z.boolean(),
  response_time: z.number(),
  message: z.record(z.string(), z.unknown()),
  error: z.string().optional(),
});

/** StreamResults chunk size: at most 1 MiB of data per ResultsChunk. */
export const MAX_CHUNK_BYTES = 1024 * 1024;
