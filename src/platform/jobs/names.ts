import { SondeError } from "../../lib/errors.js";

/**
 * Queue naming. One rule, used by every path that turns a job (and maybe a tenant) into a pg-boss
 * queue name, so that names cannot collide:
 *
 *   job queue              <job>                 e.g. `inventory.sync`
 *   its dead letter        <job>.dead            e.g. `inventory.sync.dead`
 *   tenant queue           <job>/<tenant>        e.g. `inventory.sync/acme`
 *   its dead letter        <job>/<tenant>.dead   e.g. `inventory.sync/acme.dead`
 *
 * Job names are dot-separated lower-case segments and never end in a `dead` segment; tenant slugs
 * contain no dot or slash. So `/` always starts the tenant part and a trailing `.dead` always means
 * a dead letter: a tenant called `dead` cannot be mistaken for a dead-letter queue. (`/` rather than
 * `.` before the tenant for that reason; pg-boss accepts both.)
 */

const JOB_NAME = /^[a-z][a-z0-9_-]*(?:\.[a-z][a-z0-9_-]*)*$/;
const JOB_NAME_MAX = 100;
const TENANT_SLUG = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const DEAD_SUFFIX = ".dead";

/** Why a job name is unacceptable, or undefined when it is fine. */
export function jobNameProblem(name: string): string | undefined {
  if (name.length > JOB_NAME_MAX) return `is longer than ${JOB_NAME_MAX} characters`;
  if (!JOB_NAME.test(name)) {
    return "must be dot-separated segments of lower-case letters, digits, '_' or '-', each starting with a letter";
  }
  if (name === "dead" || name.endsWith(DEAD_SUFFIX))
    return "must not end in 'dead' (reserved for dead letters)";
  return undefined;
}

export function assertTenantSlug(tenant: string): void {
  if (!TENANT_SLUG.test(tenant)) {
    throw new SondeError("SONDE_VALIDATION_FAILED", `invalid tenant slug "${tenant.slice(0, 80)}"`, {
      meta: { field: "tenant", expected: TENANT_SLUG.source },
    });
  }
}

/** The pg-boss queue for a job, or for one tenant's share of it. */
export function queueName(job: string, tenant?: string): string {
  if (tenant === undefined) return job;
  assertTenantSlug(tenant);
  return `${job}/${tenant}`;
}

export function deadLetterName(queue: string): string {
  return `${queue}${DEAD_SUFFIX}`;
}

/** The parts of a queue name (the inverse of `queueName`, plus whether it is a dead letter). */
export function parseQueueName(queue: string): {
  readonly job: string;
  readonly tenant: string | undefined;
  readonly deadLetter: boolean;
} {
  const deadLetter = queue.endsWith(DEAD_SUFFIX);
  const base = deadLetter ? queue.slice(0, -DEAD_SUFFIX.length) : queue;
  const slash = base.indexOf("/");
  return slash === -1
    ? { job: base, tenant: undefined, deadLetter }
    : { job: base.slice(0, slash), tenant: base.slice(slash + 1), deadLetter };
}
