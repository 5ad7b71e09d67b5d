/**
 * Terminology (the resource framework, after Ash):
 * - resource: a kind of record Sonde stores and exposes (device, alert, note…), declared once with
 *   `defineResource`. The declaration drives storage, validation, authorization, tenancy, lifecycle,
 *   events and the APIs.
 * - attribute: a column exposed on the resource. Sensitive attributes are written but never read back;
 *   encrypted ones are stored as ciphertext and read back in the clear.
 * - identity: a set of attributes unique per tenant; creates may upsert on one.
 * - relationship: belongs_to (this row holds the key) or has_many (the other rows hold it).
 * - calculation: a value computed in SQL from the row; aggregate: count/sum/max over a relationship.
 * - action: a named operation of one of four types (create, read, update, destroy). Each declares the
 *   attributes it accepts, extra arguments, changes (functions that shape the write) and validations.
 * - policy: who may run which action, and on which rows (see policy/types.ts).
 * - state machine: allowed transitions of a state attribute, each triggered by an update action.
 */
import type { SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { z } from "zod";
import type { Actor, Scope } from "../actor.js";
import type { Filter } from "../filter.js";
import type { TenantLimit } from "../kernel.schema.js";
import type { Policy } from "../policy/types.js";
import type { KernelServices } from "../services.js";
import type { Tx } from "../tenancy/transaction.js";

export type ActionType = "create" | "read" | "update" | "destroy";

/** Names of the drizzle table's columns (its property keys, which are the attribute names). */
export type ColumnName<T extends PgTable> = Extract<keyof T["_"]["columns"], string>;

export interface AttributeOptions {
  /** Written, never serialised or returned (passwords, credentials). */
  readonly sensitive?: boolean;
  /** May appear in `filter[...]` and `sort` (default true for non-sensitive attributes). */
  readonly filterable?: boolean;
  /** Replaces the schema derived from the column (e.g. an email or CIDR format). */
  readonly schema?: z.ZodType;
  /**
   * Stored encrypted (AES-256-GCM under the keyring's active key, docs/encryption.md) and decrypted on
   * every read. Text columns only; never filterable or sortable, never part of an identity, and left
   * out of event payloads. Needs a keyring in `KernelOptions`.
   */
  readonly encrypted?: boolean;
}

export interface ChangeContext {
  readonly actor: Actor;
  readonly tenantId: string | null;
  /** The current record, for update and destroy actions. */
  readonly record: Readonly<Record<string, unknown>> | undefined;
  readonly arguments: Readonly<Record<string, unknown>>;
  /**
   * What the action hands back beside the record, once: a generated secret that is stored only as a
   * hash (an API token, an invitation link). Changes put values here; `ActionSpec.output` says which
   * keys the caller sees, `afterCommit` sees all of them. Never stored, never in events or audit.
   */
  readonly output: Map<string, unknown>;
}

/** What `afterCommit` receives: the committed record and the action's output. */
export interface AfterCommitEvent {
  readonly record: Readonly<Record<string, unknown>>;
  readonly output: ReadonlyMap<string, unknown>;
  readonly actor: Actor;
  readonly tenantId: string | null;
  readonly services: KernelServices;
}

/** What `within` receives: the record as written, inside the action's transaction. */
export interface WithinEvent {
  readonly tx: Tx;
  readonly record: Readonly<Record<string, unknown>>;
  readonly actor: Actor;
  readonly tenantId: string | null;
  readonly arguments: Readonly<Record<string, unknown>>;
  /** The action's output (see ChangeContext.output): what its changes generated, such as a new run's id. */
  readonly output: Map<string, unknown>;
}

/** Shapes the write: receives the validated input, returns the values to store. */
export type Change = (values: Record<string, unknown>, ctx: ChangeContext) => Record<string, unknown>;

/** Returns an error message (with the offending attribute) or undefined when the values are valid. */
export type Validation = (
  values: Readonly<Record<string, unknown>>,
  ctx: ChangeContext,
) => { readonly field: string; readonly message: string } | undefined;

export interface ActionSpec<T extends PgTable> {
  readonly type: ActionType;
  /** Attributes the caller may set (create/update). Anything else in the input is rejected. */
  readonly accept?: readonly ColumnName<T>[];
  /** Inputs that are not attributes, validated with zod and passed to changes and validations. */
  readonly arguments?: z.ZodObject;
  readonly changes?: readonly Change[];
  readonly validations?: readonly Validation[];
  /** Attributes that must be present on create (beyond what the table requires). */
  readonly require?: readonly ColumnName<T>[];
  /** Create actions: insert or update on conflict with this identity. */
  readonly upsertIdentity?: string;
  /** Exposed as a custom JSON:API route `POST /<type>/{id}/<route>` (update/destroy actions). */
  readonly route?: string;
  /** Keys of the action's output (see ChangeContext.output) that the caller receives, e.g. `token`. */
  readonly output?: readonly string[];
  /**
   * Runs after the write committed (e.g. mails a link). What it returns joins the caller's output. A
   * failure is logged and reported as `{ after_commit: "failed" }`, never thrown: the write stands, and
   * a caller retrying it would only write it twice.
   */
  readonly afterCommit?: (event: AfterCommitEvent) => Promise<Record<string, unknown> | undefined>;
  /**
   * Runs inside the action's transaction, after the write (create/update), with the written record:
   * the writes to other tables that the action implies and that must commit or roll back with it
   * (unmerging a device moves its identifiers back). Row-level security holds: `tx` is the action's.
   */
  readonly within?: (event: WithinEvent) => Promise<void>;
  /**
   * A bulk action: never run record by record (no JSON:API route, not the resource's default create),
   * only through `Kernel.bulk`, which authorizes it like any action and hands the domain the
   * tenant's transaction for set-based writes (device sync ingest).
   */
  readonly bulk?: boolean;
  /**
   * `false`: the system actor running this action leaves no `system_write` audit row. Only for
   * high-frequency observations (a heartbeat, a check result, a scheduling claim) whose effect is the
   * record's own counters: their state transitions are audited as transitions still, and a user
   * running the action is audited as ever.
   */
  readonly auditSystem?: boolean;
  /**
   * The event's last subject token (default: the action's name), e.g. `degraded` for a system
   * transition named `degrade`; `false` publishes no event for this action (a heartbeat that only
   * refreshes timestamps is not news).
   */
  readonly event?: string | false;
  readonly description?: string;
}

/**
 * A plan limit on how many rows a tenant may have: creates that would pass the tenant's `limit`
 * column (null: unlimited) are refused with SONDE_TENANT_LIMIT_REACHED. Rows of `counts` (default:
 * this resource) matching `where` are counted, under a lock on the tenant's row so that concurrent
 * creates cannot both slip under the limit.
 */
export interface Quota {
  readonly limit: TenantLimit;
  readonly counts?: () => ResourceRef;
  readonly where?: Filter;
}

/** Names another resource; a thunk so that resources can point at each other. */
export interface ResourceRef {
  readonly name: string;
}

export interface BelongsTo {
  readonly kind: "belongs_to";
  readonly resource: () => ResourceRef;
  /** Attribute on this resource holding the other's primary key. */
  readonly sourceField: string;
}

export interface HasMany {
  readonly kind: "has_many";
  readonly resource: () => ResourceRef;
  /** Attribute on the other resource holding this one's primary key. */
  readonly destinationField: string;
}

export type Relationship = BelongsTo | HasMany;

export interface Calculation<T extends PgTable> {
  readonly sql: (table: T) => SQL;
  readonly type: "string" | "number" | "boolean" | "date";
  readonly description?: string;
}

export interface Aggregate {
  readonly kind: "count" | "sum" | "max" | "min";
  readonly relationship: string;
  /** Attribute of the related resource (not for count). */
  readonly field?: string;
}

export interface Transition {
  readonly action: string;
  readonly from: readonly string[];
  readonly to: string;
}

export interface StateMachine<T extends PgTable> {
  readonly attribute: ColumnName<T>;
  readonly initial: string;
  readonly states: readonly string[];
  readonly transitions: readonly Transition[];
}

export interface ResourceSpec<T extends PgTable> {
  /** Singular, snake_case: `service_check`. The JSON:API type is the kebab-case plural. */
  readonly name: string;
  readonly plural?: string;
  readonly table: T;
  /** Tenant-scoped tables carry `tenantId` and row-level security; global ones do not. */
  readonly tenancy: "tenant" | "global";
  readonly primaryKey?: ColumnName<T>;
  readonly attributes?: Partial<Record<ColumnName<T>, AttributeOptions>>;
  readonly identities?: Readonly<Record<string, readonly ColumnName<T>[]>>;
  readonly relationships?: Readonly<Record<string, Relationship>>;
  readonly calculations?: Readonly<Record<string, Calculation<T>>>;
  readonly aggregates?: Readonly<Record<string, Aggregate>>;
  readonly actions: Readonly<Record<string, ActionSpec<T>>>;
  readonly stateMachine?: StateMachine<T>;
  readonly policies: readonly Policy[];
  /**
   * The least API-token scope any action of this resource needs (default: `read` for reads, `write`
   * for writes). Users, memberships and tokens say `admin`.
   */
  readonly minimumScope?: Scope;
  /** Plan limit on this resource's rows per tenant (tenant-scoped resources only). */
  readonly quota?: Quota;
  /** Publish `sonde.<tenant>.<resource>.<action>` through the outbox on every committed write. */
  readonly events?: boolean;
  /**
   * A subject token between the tenant and the resource for its events:
   * `sonde.<tenant>.<eventArea>.<resource>.<event>` (`sonde.acme.infra.poller.degraded`).
   */
  readonly eventArea?: string;
  readonly description?: string;
}

/** A declared resource after start-up verification, with derived facts filled in. */
export interface Resource<T extends PgTable = PgTable> {
  readonly spec: ResourceSpec<T>;
  readonly name: string;
  readonly plural: string;
  /** JSON:API type: kebab-case plural (`service-checks`). */
  readonly type: string;
  readonly table: T;
  readonly tenancy: "tenant" | "global";
  readonly primaryKey: string;
  /** The tenant_id column's property key and column (tenant-scoped resources only; never exposed). */
  readonly tenantKey: string | undefined;
  readonly tenantColumn: PgColumn | undefined;
  /** Attribute name → column, without tenantId (never exposed). */
  readonly columns: ReadonlyMap<string, PgColumn>;
  readonly sensitive: ReadonlySet<string>;
  /** Attributes stored encrypted (see AttributeOptions.encrypted). */
  readonly encrypted: ReadonlySet<string>;
  readonly filterable: ReadonlySet<string>;
  readonly arrayAttributes: ReadonlySet<string>;
  readonly actions: ReadonlyMap<string, ActionSpec<T> & { readonly name: string }>;
  readonly transitionsByAction: ReadonlyMap<string, Transition>;
}

export type AnyResource = Resource<PgTable>;
