import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { SondeError } from "../lib/errors.js";
import { type CheckRunner, parseCheck, type ScheduledCheck } from "../platform/probes/index.js";
import { type BatchResult, batchSchema, MAX_CHUNK_BYTES } from "./batch.js";
import { toConnectError } from "./errors.js";
import {
  AgentService,
  ResultsChunkSchema,
  type ResultsRequest,
  ResultsResponseSchema,
  StatusResponseSchema,
  SweepCompletionStatus_Status,
  SweepCompletionStatusSchema,
} from "./gen/monitoring/monitoring_pb.js";

/**
 * monitoring.AgentService: GetStatus runs one check described the ServiceRadar way (service_type +
 * details + port); GetResults and StreamResults run a JSON batch (./batch.ts) and return the results
 * as a JSON array, StreamResults in chunks of at most 1 MiB. Requests with bad details fail as a
 * whole with INVALID_ARGUMENT before anything runs; a check that fails is a result, not an error.
 */
export interface AgentServiceOptions {
  readonly agentId: string;
  readonly runner: CheckRunner;
  /** Checks a GetResults/StreamResults batch may hold. */
  readonly maxBatchChecks: number;
  /** Timeout of a check that names none (GetStatus, and batch entries without timeout_ms). */
  readonly checkTimeoutMs: number;
  /** Chunk size of StreamResults (MAX_CHUNK_BYTES; smaller in tests). */
  readonly chunkBytes?: number;
}

const encoder = new TextEncoder();

/**
 * StatusRequest has no timeout field: a caller's deadline is its timeout. The check gets the deadline
 * less a margin for the answer to travel back (a tenth, at most a second); without a deadline, the
 * agent's default.
 */
export function checkTimeoutFor(deadlineMs: number | undefined, fallbackMs: number): number {
  if (deadlineMs === undefined) return fallbackMs;
  const margin = Math.min(1_000, Math.floor(deadlineMs / 10));
  return Math.max(1, Math.min(300_000, deadlineMs - margin));
}

export function agentServiceRoutes(options: AgentServiceOptions): (router: ConnectRouter) => void {
  let sequence = 0;
  const chunkBytes = Math.min(options.chunkBytes ?? MAX_CHUNK_BYTES, MAX_CHUNK_BYTES);

  const runBatch = async (request: ResultsRequest) => {
    const started = process.hrtime.bigint();
    const scheduled = parseBatch(request.details, options);
    const outcomes = await options.runner.run(scheduled.map((s) => s.scheduled));
    const results: BatchResult[] = outcomes.map((r, i) => ({
      service_name: scheduled[i]?.serviceName ?? "",
      service_type: scheduled[i]?.serviceType ?? "",
      available: r.available,
      response_time: r.responseTimeNs,
      message: r.message,
      ...(r.error === undefined ? {} : { error: r.error }),
    }));
    sequence++;
    const completion = create(SweepCompletionStatusSchema, {
      status: SweepCompletionStatus_Status.COMPLETED,
      completionTime: BigInt(Date.now()),
      targetSequence: String(sequence),
      totalTargets: results.length,
      completedTargets: results.length,
    });
    return {
      data: encoder.encode(JSON.stringify(results)),
      available: results.length === 0 || results.some((r) => r.available),
      responseTime: process.hrtime.bigint() - started,
      currentSequence: String(sequence),
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      completion,
    };
  };

  const impl: ServiceImpl<typeof AgentService> = {
    async getStatus(request, context) {
      try {
        const check = parseCheck({
          serviceType: request.serviceType,
          details: request.details,
          port: request.port,
        });
        const result = await options.runner.runOne({
          check,
          timeoutMs: checkTimeoutFor(context.timeoutMs(), options.checkTimeoutMs),
        });
        return create(StatusResponseSchema, {
          available: result.available,
          message: encoder.encode(JSON.stringify(result.message)),
          serviceName: request.serviceName,
          serviceType: request.serviceType,
          responseTime: BigInt(result.responseTimeNs),
          agentId: options.agentId,
          pollerId: request.pollerId,
        });
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async getResults(request) {
      try {
        const batch = await runBatch(request);
        return create(ResultsResponseSchema, {
          available: batch.available,
          data: batch.data,
          serviceName: request.serviceName,
          serviceType: request.serviceType,
          responseTime: batch.responseTime,
          agentId: options.agentId,
          pollerId: request.pollerId,
          timestamp: batch.timestamp,
          currentSequence: batch.currentSequence,
          hasNewData: true,
          sweepCompletion: batch.completion,
        });
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async *streamResults(request) {
      let batch;
      try {
        batch = await runBatch(request);
      } catch (err) {
        throw toConnectError(err);
      }
      const total = Math.max(1, Math.ceil(batch.data.length / chunkBytes));
      for (let index = 0; index < total; index++) {
        yield create(ResultsChunkSchema, {
          data: batch.data.subarray(index * chunkBytes, (index + 1) * chunkBytes),
          isFinal: index === total - 1,
          chunkIndex: index,
          totalChunks: total,
          currentSequence: batch.currentSequence,
          timestamp: batch.timestamp,
        });
      }
    },
  };
  return (router) => {
    router.service(AgentService, impl);
  };
}

interface ParsedEntry {
  readonly serviceName: string;
  readonly serviceType: string;
  readonly scheduled: ScheduledCheck;
}

function parseBatch(details: string, options: AgentServiceOptions): ParsedEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(details);
  } catch {
    throw new SondeError("SONDE_VALIDATION_FAILED", 'details must be a JSON batch: {"checks":[...]}');
  }
  // Count before validating each entry: an oversized batch is refused without parsing it all.
  const count = (value as { checks?: unknown } | null)?.checks;
  if (Array.isArray(count) && count.length > options.maxBatchChecks) {
    throw new SondeError(
      "SONDE_PAYLOAD_TOO_LARGE",
      `batch of ${count.length} checks is larger than this agent's maximum of ${options.maxBatchChecks}`,
      { meta: { checks: count.length, max: options.maxBatchChecks } },
    );
  }
  const parsed = batchSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new SondeError(
      "SONDE_VALIDATION_FAILED",
      `invalid batch: ${where}${issue?.message ?? "bad details"}`,
    );
  }
  return parsed.data.checks.map((entry, index) => {
    try {
      const check = parseCheck({ serviceType: entry.service_type, details: entry.details, port: entry.port });
      return {
        serviceName: entry.service_name,
        serviceType: entry.service_type,
        scheduled: { check, timeoutMs: entry.timeout_ms ?? options.checkTimeoutMs },
      };
    } catch (err) {
      if (err instanceof SondeError) {
        throw new SondeError(err.code, `checks.${index}: ${err.message}`, { meta: { index } });
      }
      throw err;
    }
  });
}
