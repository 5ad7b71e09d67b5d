import type { Logger } from "pino";
import { isSondeError, SondeError } from "../../../lib/errors.js";
import { systemActor } from "../../../kernel/actor.js";
import type { Kernel, Rec } from "../../../kernel/kernel.js";
import type { ActionContext } from "../../../kernel/pipeline/authorize.js";
import type { JobHandler } from "../../../platform/jobs/index.js";
import { emptyResult, type IngestResult } from "../../inventory/dire/types.js";
import type { HttpPolicy } from "../http/policy.js";
import { INTEGRATION_KINDS, type IntegrationKind } from "../integrations.schema.js";
import { deviceReader } from "../readers.js";
import { integrationRunResource } from "../resources/integration-run.js";
import { integrationSourceResource } from "../resources/integration-source.js";
import type { RunCounts } from "../resources/sync-arguments.js";
import type { IntegrationSyncPayload } from "./job.js";
import { redact, syncErrorMessage } from "./sync-error.js";

/** What the runner hands pages to: DIRE's DeviceIngest (dire/ingest.ts) in core. */
export interface DeviceSink {
  ingest(ctx: ActionContext, raw: readonly unknown[]): Promise<IngestResult>;
}

export interface SyncDeps {
  readonly kernel: Kernel;
  readonly ingest: DeviceSink;
  readonly logger: Logger;
  /** The clients' HTTP policy (default: DEFAULT_HTTP_POLICY); tests shorten it. */
  readonly http?: HttpPolicy;
}

export type SyncOutcome = "success" | "skipped";

/** Reads the source and checks the job still has work: the source and this run are both running. */
async function runningSource(deps: SyncDeps, p: IntegrationSyncPayload): Promise<Rec | undefined> {
  const ctx: ActionContext = { actor: systemActor("integration:sync"), tenantId: p.tenantId };
  try {
    const source = await deps.kernel.get(
      deps.kernel.resource(integrationSourceResource.name),
      ctx,
      p.sourceId,
    );
    const run = await deps.kernel.get(deps.kernel.resource(integrationRunResource.name), ctx, p.runId);
    return source.status === "running" && run.status === "running" && run.source_id === p.sourceId
      ? source
      : undefined;
  } catch (err) {
    if (isSondeError(err, "SONDE_NOT_FOUND")) return undefined;
    throw err;
  }
}

function kindOf(source: Rec): IntegrationKind {
  const kind = INTEGRATION_KINDS.find((k) => k === source.kind);
  if (kind === undefined) throw new SondeError("SONDE_INTERNAL", "integration source of an unknown kind");
  return kind;
}

/**
 * One sync: reveal the credentials (audited), page through the source, hand each page to the ingest
 * as the system actor `integration:<kind>` in the source's tenant, report progress after each page,
 * and end the run with `finish`, or with `fail` and a secret-free error, which is then rethrown so
 * that the job shows as failed. A job whose source or run is no longer running does nothing.
 */
export async function runSync(
  deps: SyncDeps,
  p: IntegrationSyncPayload,
  signal?: AbortSignal,
): Promise<SyncOutcome> {
  const log = deps.logger.child({ tenantId: p.tenantId, sourceId: p.sourceId, runId: p.runId });
  const source = await runningSource(deps, p);
  if (source === undefined) {
    log.info("integration sync skipped: the source or its run is no longer running");
    return "skipped";
  }
  const sources = deps.kernel.resource(integrationSourceResource.name);
  const kind = kindOf(source);
  const ctx: ActionContext = { actor: systemActor(`integration:${kind}`), tenantId: p.tenantId };
  const counts: RunCounts = { seen: 0, total: null, created: 0, updated: 0, merged: 0, rejected: 0 };
  let secret: string | null = null;
  try {
    secret = await deps.kernel.revealSensitive(sources, ctx, p.sourceId, "credentials");
    if (secret === null) throw new SondeError("SONDE_INTEGRATION_AUTH_FAILED", `${kind}: no credentials`);
    const reader = deviceReader({
      kind,
      endpoint: String(source.endpoint),
      credentials: secret,
      partition: String(source.partition),
      query: typeof source.query === "string" ? source.query : null,
      pageSize: Number(source.page_size),
      ...(deps.http ? { policy: deps.http } : {}),
    });
    for await (const page of reader.pages(signal)) {
      const result = page.updates.length > 0 ? await deps.ingest.ingest(ctx, page.updates) : emptyResult();
      counts.seen += page.records;
      counts.total = page.total;
      counts.created += result.created;
      counts.updated += result.updated;
      counts.merged += result.merged;
      counts.rejected += page.skipped + result.rejected.length;
      await deps.kernel.runAction(sources, "progress", ctx, {
        id: p.sourceId,
        arguments: { run_id: p.runId, ...counts },
      });
    }
    await deps.kernel.runAction(sources, "finish", ctx, {
      id: p.sourceId,
      arguments: { run_id: p.runId, ...counts },
    });
    log.info({ kind, ...counts }, "integration sync finished");
    return "success";
  } catch (err) {
    const message = syncErrorMessage(err, secret);
    // An unexpected error's own text is for the log (not the run), scrubbed of the secret all the same.
    const detail = isSondeError(err)
      ? undefined
      : redact(err instanceof Error ? (err.stack ?? err.message) : String(err), secret);
    log.warn(
      { kind, code: isSondeError(err) ? err.code : "unexpected", error: message, detail, ...counts },
      "integration sync failed",
    );
    await failRun(deps, ctx, p, message, counts, log);
    throw new SondeError(isSondeError(err) ? err.code : "SONDE_INTERNAL", message);
  }
}

/** Ends the run as failed; if even that fails (source gone), the stale-sync trigger is the net. */
async function failRun(
  deps: SyncDeps,
  ctx: ActionContext,
  p: IntegrationSyncPayload,
  error: string,
  counts: RunCounts,
  log: Logger,
): Promise<void> {
  try {
    await deps.kernel.runAction(deps.kernel.resource(integrationSourceResource.name), "fail", ctx, {
      id: p.sourceId,
      arguments: { run_id: p.runId, error, ...counts },
    });
  } catch (err) {
    log.error(
      { code: isSondeError(err) ? err.code : "unexpected", error: String(err) },
      "could not record the failed sync",
    );
  }
}

/** The job's handler, for core to register with its queue. */
export function syncJobHandler(deps: SyncDeps): JobHandler<IntegrationSyncPayload> {
  return async (payload, job) => {
    await runSync(deps, payload, job.signal);
  };
}
