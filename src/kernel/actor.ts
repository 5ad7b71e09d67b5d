/**
 * Who is acting. Every action runs for exactly one actor; there is no anonymous access to resources
 * and no implicit "override": work without a user runs as the explicit, audited system actor.
 */

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** API token scopes: read (safe methods), write (plus mutations), admin (plus users and tokens). */
export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface UserActor {
  readonly kind: "user";
  readonly id: string;
  /** The tenant the user acts in (a super user picks one explicitly). */
  readonly tenantId: string;
  readonly role: Role;
  readonly superUser: boolean;
  /** Present when the actor came from an API token: what the token may do. Sessions have none. */
  readonly scopes?: readonly Scope[];
}

export interface SystemActor {
  readonly kind: "system";
  /** Why the system acts (trigger name, job, migration); recorded in the audit log. */
  readonly reason: string;
}

export type Actor = UserActor | SystemActor;

export function systemActor(reason: string): SystemActor {
  return { kind: "system", reason };
}

export function actorId(actor: Actor): string {
  return actor.kind === "user" ? actor.id : `system:${actor.reason}`;
}
