import type { WorkItem } from "../../../platform/fabric/contract.js";

/** A checker due for a run, as the claim reads it (checkers joined with their agents). */
export interface DueChecker {
  readonly id: string;
  readonly name: string;
  readonly check_type: string;
  readonly details: string;
  readonly port: number;
  readonly timeout_ms: number;
  /** The agent's partition and registry id: the work goes to that partition, for that agent. */
  readonly partition: string;
  readonly agent_component_id: string;
  /** The due time this run is for (epoch ms): with the checker id, the work's identity. */
  readonly due_ms: number;
}

/**
 * monitoring.AgentService names a TCP connect check `port`; the other native types keep their name.
 * Check types the agent does not know (a ServiceRadar checker such as `sysmon`) pass through, and
 * the capability is the check type itself.
 */
export function serviceTypeOf(checkType: string): string {
  return checkType === "tcp" ? "port" : checkType;
}

const WORK_ID = /^checker:([0-9a-f-]{36}):(\d{1,15})$/;

/** `checker:<id>:<due ms>`: one run per checker and due time, whoever dispatches it and how often. */
export function workIdOf(checkerId: string, dueMs: number): string {
  return `checker:${checkerId}:${dueMs}`;
}

export function parseWorkId(id: string): { checkerId: string; dueMs: number } | undefined {
  const m = WORK_ID.exec(id);
  return m === null ? undefined : { checkerId: m[1] as string, dueMs: Number(m[2]) };
}

export function workFor(tenant: string, c: DueChecker, attempt = 1): WorkItem {
  return {
    id: workIdOf(c.id, c.due_ms),
    tenant,
    partition: c.partition,
    capability: c.check_type,
    service_name: c.name,
    service_type: serviceTypeOf(c.check_type),
    details: c.details,
    port: c.port,
    timeout_ms: c.timeout_ms,
    attempt,
    agent_id: c.agent_component_id,
  };
}
