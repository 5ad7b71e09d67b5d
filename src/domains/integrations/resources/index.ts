import type { ResourceDeclaration } from "../../../kernel/resource/define.js";
import { integrationRunResource } from "./integration-run.js";
import { integrationSourceResource } from "./integration-source.js";

export { integrationRunResource, integrationSourceResource };

/** The integrations' resources: sources that feed the inventory, and the record of their runs. */
export const integrationResources: readonly ResourceDeclaration[] = [
  integrationSourceResource,
  integrationRunResource,
];
