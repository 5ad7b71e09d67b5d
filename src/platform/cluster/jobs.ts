import { z } from "zod";
import { defineJob } from "../jobs/index.js";
import { CORE_STALE_AFTER_MS } from "./core-instances.js";

/** Removes core instances that stopped heart-beating without deregistering (crash, kill -9). */
export const pruneCoreInstancesJob = defineJob("platform.prune-core-instances", {
  payload: z.object({ staleAfterMs: z.number().int().positive().default(CORE_STALE_AFTER_MS) }),
  retryLimit: 2,
});
