import type { ResourceDeclaration } from "../../../kernel/resource/define.js";
import { agentResource } from "./agent.js";
import { checkerResource } from "./checker.js";
import { partitionResource } from "./partition.js";
import { pollerResource } from "./poller.js";

export { agentResource, checkerResource, partitionResource, pollerResource };

/** The polling fabric as core keeps it: partitions, pollers, agents and their checkers. */
export const infrastructureResources: readonly ResourceDeclaration[] = [
  partitionResource,
  pollerResource,
  agentResource,
  checkerResource,
];
