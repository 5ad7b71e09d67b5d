/**
 * The integrations as core runs them, over the identity harness's HTTP app: a kernel whose actions
 * enqueue through a job sender backed by a real job queue (its own pg-boss schema), the sync job's
 * worker with DIRE's real DeviceIngest, and the trigger runner with the integration triggers. The HTTP
 * policy is shortened so that retries and timeouts take milliseconds rather than seconds.
 */
import { randomBytes } from "node:crypto";
import type { HttpPolicy } from "../../src/domains/integrations/http/policy.js";
import { integrationSyncJob } from "../../src/domains/integrations/sync/job.js";
import { syncJobHandler } from "../../src/domains/integrations/sync/runner.js";
import { integrationTriggers } from "../../src/domains/integrations/sync/triggers.js";
import { DeviceIngest } from "../../src/domains/inventory/dire/ingest.js";
import type { JobSender } from "../../src/kernel/services.js";
import {
  createTriggerRunner,
  type TriggerRunner,
  triggerJobDefinitions,
} from "../../src/kernel/triggers/index.js";
import {
  createJobQueue,
  type JobQueue,
  type NamedJobSender,
  namedJobSender,
} from "../../src/platform/jobs/index.js";
import { type DatabaseTarget, silentLogger } from "./databases.js";
import { type IdentityHarness, openIdentityHarness } from "./identity-harness.js";

export const TEST_HTTP_POLICY: HttpPolicy = {
  timeoutMs: 2_000,
  maxAttempts: 3,
  baseDelayMs: 20,
  maxDelayMs: 2_000,
};

const definitions = [integrationSyncJob, ...triggerJobDefinitions(integrationTriggers)];

export interface IntegrationHarness {
  readonly h: IdentityHarness;
  readonly jobs: JobQueue<(typeof definitions)[number]>;
  readonly triggers: TriggerRunner;
  close(): Promise<void>;
}

export async function openIntegrationHarness(target: DatabaseTarget): Promise<IntegrationHarness> {
  // The kernel is built before the queue (it needs the harness's database): it sends through this.
  const late: { sender?: NamedJobSender } = {};
  const forward: JobSender = {
    send(name, payload, opts) {
      if (late.sender === undefined) throw new Error("the job queue is not started yet");
      return late.sender.send(name, payload, opts);
    },
  };
  const h = await openIdentityHarness(target, { jobs: forward });
  const jobs = createJobQueue({
    db: h.t.db,
    logger: silentLogger,
    definitions,
    schema: `jobs_${randomBytes(5).toString("hex")}`,
    pollingIntervalSeconds: 0.5,
  });
  late.sender = namedJobSender(jobs, definitions);
  await jobs.start();
  const ingest = new DeviceIngest({ kernel: h.kernel, logger: silentLogger });
  await jobs.work(
    integrationSyncJob,
    syncJobHandler({ kernel: h.kernel, ingest, logger: silentLogger, http: TEST_HTTP_POLICY }),
  );
  const triggers = createTriggerRunner({
    kernel: h.kernel,
    orm: h.t.db.orm,
    jobs,
    logger: silentLogger,
    triggers: integrationTriggers,
  });
  await triggers.start();
  return {
    h,
    jobs,
    triggers,
    async close() {
      await triggers.stop();
      await jobs.stop({ graceMs: 1_000 });
      await h.close();
    },
  };
}
