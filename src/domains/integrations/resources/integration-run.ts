import { z } from "zod";
import {
  actionType,
  authorizeIf,
  bypass,
  isSystemActor,
  policy,
  roleAtLeast,
} from "../../../kernel/policy/checks.js";
import { defineResource } from "../../../kernel/resource/define.js";
import type { ResourceRef } from "../../../kernel/resource/types.js";
import { integrationRuns, RUN_STATUSES } from "../integrations.schema.js";
import { integrationSourceResource } from "./integration-source.js";

/**
 * One sync of a source: who started it (`manual`, `schedule`), how far it got (devices seen of the
 * source's total; created, updated, merged and rejected by the ingest), how it ended and why. Read-only
 * for users; written only by the source's sync transitions (resources/run-records.ts).
 */
export const integrationRunResource = defineResource({
  name: "integration_run",
  table: integrationRuns,
  tenancy: "tenant",
  attributes: { status: { schema: z.enum(RUN_STATUSES) } },
  relationships: {
    source: {
      kind: "belongs_to",
      resource: (): ResourceRef => integrationSourceResource,
      sourceField: "source_id",
    },
  },
  actions: { read: { type: "read" } },
  policies: [bypass(isSystemActor()), policy(actionType("read"), authorizeIf(roleAtLeast("viewer")))],
  description: "The record of each sync of an integration source.",
});
