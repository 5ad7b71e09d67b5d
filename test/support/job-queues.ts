import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll } from "vitest";
import {
  type AnyJobDefinition,
  createJobQueue,
  type JobQueue,
  type JobQueueOptions,
} from "../../src/platform/jobs/index.js";
import { type DatabaseTarget, silentLogger, type TestDatabase } from "./databases.js";

export interface JobQueueHarness {
  /** The suite's database (open from beforeAll until afterAll). */
  db(): TestDatabase;
  /** A queue in its own pg-boss schema, so that tests cannot see each other's jobs; stopped after each test. */
  newQueue<const Defs extends readonly AnyJobDefinition[]>(
    definitions: Defs,
    extra?: Partial<JobQueueOptions<Defs>>,
  ): JobQueue<Defs[number]>;
}

/** Call inside a `describe`: one fresh database for the suite, queues cleaned up after every test. */
export function useJobQueues(target: DatabaseTarget): JobQueueHarness {
  let t: TestDatabase | undefined;
  const open: JobQueue<AnyJobDefinition>[] = [];
  beforeAll(async () => {
    t = await target.open();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((q) => q.stop({ graceMs: 1_000 })));
  });
  afterAll(async () => {
    await t?.dispose();
  });
  const db = (): TestDatabase => {
    if (t === undefined) throw new Error("the suite's database is not open yet");
    return t;
  };
  return {
    db,
    newQueue(definitions, extra = {}) {
      const queue = createJobQueue({
        db: db().db,
        logger: silentLogger,
        definitions,
        schema: `jobs_${randomBytes(5).toString("hex")}`,
        pollingIntervalSeconds: 0.5,
        ...extra,
      });
      open.push(queue);
      return queue;
    },
  };
}
