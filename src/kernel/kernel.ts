import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { Logger } from "pino";
import { isSondeError, SondeError } from "../lib/errors.js";
import type { Keyring } from "../platform/crypto/index.js";
import { classifyDbError } from "../platform/db/classify.js";
import type { Orm } from "../platform/db/types.js";
import { type Actor, actorId } from "./actor.js";
import { type AuditEntry, writeAudit } from "./audit.js";
import { type Filter, filterFields, matches } from "./filter.js";
import { stateTransitions } from "./kernel.schema.js";
import { enqueueEvent } from "./outbox.js";
import { type ActionContext, type Authorization, authorize, type NamedAction } from "./pipeline/authorize.js";
import { AttributeCipher, isUnknownKey, verifyKeyring } from "./pipeline/encryption.js";
import { findAction, defaultAction, pickAction } from "./pipeline/actions.js";
import { applyChanges } from "./pipeline/changes.js";
import { columnOf, pkColumn, validId } from "./pipeline/columns.js";
import { assertRequired, validateInput } from "./pipeline/input.js";
import { forbidden, invalidTransition, notFound } from "./pipeline/outcomes.js";
import { describeUniqueViolation } from "./pipeline/unique-violation.js";
import { assertRevealable } from "./pipeline/reveal.js";
import { afterCursor, decodeCursor, encodeCursor, orderBy, type SortKey } from "./pipeline/keyset.js";
import { fieldResolver, projection } from "./pipeline/projection.js";
import { type ReencryptCount, type ReencryptOptions, reencryptAll } from "./pipeline/reencrypt.js";
import { buildRegistry } from "./resource/registry.js";
import { auditEventResource } from "./resources/audit-events.js";
import type { ResourceDeclaration } from "./resource/define.js";
import type { AnyResource, ChangeContext } from "./resource/types.js";
import { filterToSql } from "./sql/filter-sql.js";
import { TenantSlugs } from "./tenancy/slugs.js";
import { inScope, type Tx } from "./tenancy/transaction.js";
import { afterCommit } from "./pipeline/after-commit.js";
import { lockQuota } from "./pipeline/quota.js";
import { assertReferencesVisible } from "./pipeline/references.js";
import type { KernelServices } from "./services.js";

export type Rec = Record<string, unknown>;

export interface ListQuery {
  readonly filter?: Filter;
  readonly sort?: readonly SortKey[];
  /** Keyset (`after`) or numbered pages; size defaults to 50 and is capped at 1000. */
  readonly page?: { readonly size?: number; readonly after?: string; readonly number?: number };
  readonly aggregates?: readonly string[];
}

export interface ListResult {
  readonly records: Rec[];
  /** Cursor for the next page, or null on the last one. */
  readonly nextCursor: string | null;
}

export interface WriteOptions {
  readonly action?: string;
  readonly arguments?: Readonly<Record<string, unknown>>;
  /**
   * Update/destroy: a condition the record must still meet under the write's row lock, else
   * SONDE_GUARD_FAILED and nothing is written. Triggers pass their `where`, so a row changed between
   * their scan and the action is left alone. Asked in SQL, so it may name calculations (`now()`).
   */
  readonly guard?: Filter;
  /** Receives the action's output shown to callers (e.g. a generated token), once, after commit. */
  readonly output?: (values: Record<string, unknown>) => void;
}

export interface KernelOptions {
  readonly orm: Orm;
  // Specs of different tables live side by side, hence the widest table type.
  readonly resources: readonly ResourceDeclaration[];
  readonly logger: Logger;
  /** Called after every commit that wrote to the outbox (the relay publishes at once). */
  readonly onOutboxWrite?: () => void;
  /** Encrypts and decrypts `encrypted` attributes; required when any resource declares one. */
  readonly keyring?: Keyring;
  /** Components actions reach after commit (mailer, public URL); see services.ts. */
  readonly services?: KernelServices;
}

/** What a bulk operation gets: the tenant's transaction and the facts the kernel settled. */
export interface BulkContext {
  readonly tx: Tx;
  readonly tenantId: string;
  readonly actor: Actor;
}

/** What a bulk operation returns: its result and the events to publish with its commit. */
export interface BulkOutcome<T> {
  readonly result: T;
  /** `sonde.<tenant>.<resource>.<event>` with the payload, through the outbox (one per batch, not per row). */
  readonly events?: readonly { readonly event: string; readonly payload: Rec }[];
}

export const MAX_PAGE_SIZE = 1000;

/** `sonde.<tenant>.[<area>.]<resource>.<event>`: the subject a committed write's event is published on. */
function eventSubject(slug: string, resource: AnyResource, event: string): string {
  const area = resource.spec.eventArea;
  return area === undefined
    ? `sonde.${slug}.${resource.name}.${event}`
    : `sonde.${slug}.${area}.${resource.name}.${event}`;
}
const DEFAULT_PAGE_SIZE = 50;

/**
 * The kernel: the one pipeline every entry point runs actions through. Each action: resolve actor and
 * tenant → token scope and policies (filter checks become SQL) → validate input → changes and
 * validations → state-transition guard → transaction as the application role with the tenant set →
 * write → outbox row → commit → nudge the relay → audit. Errors come from the catalogue.
 */
export class Kernel {
  readonly resources: ReadonlyMap<string, AnyResource>;
  private readonly byType: ReadonlyMap<string, AnyResource>;
  private readonly slugs = new TenantSlugs();
  private readonly lookup = (name: string): AnyResource => this.resource(name);
  private readonly cipher: AttributeCipher;

  constructor(private readonly opts: KernelOptions) {
    // The kernel's own resources are always there; domains add theirs.
    const registry = buildRegistry([auditEventResource, ...opts.resources]);
    this.resources = registry.byName;
    this.byType = registry.byType;
    verifyKeyring(this.resources.values(), opts.keyring);
    this.cipher = new AttributeCipher(opts.keyring);
  }

  /** By name (`note`) or JSON:API type (`notes`). */
  resource(nameOrType: string): AnyResource {
    const r = this.resources.get(nameOrType) ?? this.byType.get(nameOrType);
    if (r === undefined) throw new SondeError("SONDE_NOT_FOUND", `unknown resource ${nameOrType}`);
    return r;
  }

  /** The resource that a relationship points to. */
  related(resource: AnyResource, relationship: string): AnyResource {
    const rel = resource.spec.relationships?.[relationship];
    if (rel === undefined) {
      throw new SondeError("SONDE_BAD_REQUEST", `${resource.name} has no relationship ${relationship}`);
    }
    return this.resource(rel.resource().name);
  }

  action(resource: AnyResource, name: string, type?: NamedAction["type"]): NamedAction {
    return findAction(resource, name, type);
  }

  // ---------------------------------------------------------------------------------------------
  // Reads

  async get(
    resource: AnyResource,
    ctx: ActionContext,
    id: string,
    opts: { aggregates?: readonly string[] } = {},
  ): Promise<Rec> {
    const action = defaultAction(resource, "read");
    const auth = await this.authorizeOrAudit(resource, action, ctx);
    if (!validId(resource, id)) throw notFound(resource, id);
    return this.run(auth, async (tx) => {
      const row = await this.selectOne(tx, resource, auth, id, opts.aggregates ?? [], ctx.actor);
      if (row === undefined) throw notFound(resource, id);
      return this.openOne(resource, row);
    });
  }

  async list(resource: AnyResource, ctx: ActionContext, query: ListQuery = {}): Promise<ListResult> {
    const action = defaultAction(resource, "read");
    const auth = await this.authorizeOrAudit(resource, action, ctx);
    const resolve = fieldResolver(resource, this.lookup);
    const known = (f: string) => {
      const r = resolve(f);
      if (r === undefined || resource.sensitive.has(f)) {
        throw new SondeError("SONDE_BAD_REQUEST", `${f} is not a field of ${resource.name}`, {
          meta: { field: f },
        });
      }
      if (resource.encrypted.has(f)) {
        throw new SondeError("SONDE_BAD_REQUEST", `${f} is encrypted: it cannot be filtered or sorted on`, {
          meta: { field: f },
        });
      }
      return r;
    };
    for (const f of filterFields(query.filter ?? true)) known(f);
    const sort: SortKey[] = [...(query.sort ?? [])];
    for (const k of sort) known(k.field);
    if (!sort.some((k) => k.field === resource.primaryKey))
      sort.push({ field: resource.primaryKey, direction: "asc" });
    const size = Math.min(Math.max(1, query.page?.size ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
    const aggregates = [
      ...new Set([
        ...(query.aggregates ?? []),
        ...sort.map((k) => k.field).filter((f) => resource.spec.aggregates?.[f] !== undefined),
      ]),
    ];

    return this.run(auth, async (tx) => {
      const conditions: SQL[] = [
        filterToSql(auth.filter, resolve, ctx.actor),
        filterToSql(query.filter ?? true, resolve, ctx.actor),
      ];
      if (query.page?.after !== undefined) {
        conditions.push(afterCursor(sort, decodeCursor(query.page.after, sort.length), known));
      }
      let q = tx
        .select(projection(resource, this.lookup, aggregates))
        .from(resource.table)
        .where(and(...conditions))
        .orderBy(...orderBy(sort, known))
        .limit(size + 1)
        .$dynamic();
      if (query.page?.number !== undefined) q = q.offset((Math.max(1, query.page.number) - 1) * size);
      const rows = (await q) as Rec[];
      const hasMore = rows.length > size;
      const records = hasMore ? rows.slice(0, size) : rows;
      const last = records.at(-1);
      return {
        records: this.cipher.open(resource, records),
        nextCursor:
          hasMore && last !== undefined ? encodeCursor(sort.map((k) => last[k.field] ?? null)) : null,
      };
    });
  }

  /** Records of `resource` whose `field` is one of `values`, under the actor's read policy. */
  async listWhereIn(
    resource: AnyResource,
    ctx: ActionContext,
    field: string,
    values: readonly unknown[],
  ): Promise<Rec[]> {
    if (values.length === 0) return [];
    const action = defaultAction(resource, "read");
    const auth = await this.authorizeOrAudit(resource, action, ctx);
    const column = resource.columns.get(field);
    if (column === undefined || resource.encrypted.has(field))
      throw new SondeError("SONDE_INTERNAL", `${resource.name} has no plain column ${field}`);
    return this.run(auth, async (tx) => {
      const rows = await tx
        .select(projection(resource, this.lookup))
        .from(resource.table)
        .where(
          and(
            filterToSql(auth.filter, fieldResolver(resource, this.lookup), ctx.actor),
            inArray(column, [...values]),
          ),
        )
        .limit(MAX_PAGE_SIZE * 10);
      return this.cipher.open(resource, rows as Rec[]);
    });
  }

  /** The state-machine history of one record, oldest first (the record must be readable). */
  async history(resource: AnyResource, ctx: ActionContext, id: string): Promise<Rec[]> {
    await this.get(resource, ctx, id);
    const action = defaultAction(resource, "read");
    const auth = await this.authorizeOrAudit(resource, action, ctx);
    return this.run(auth, (tx) =>
      tx
        .select({
          from: stateTransitions.from_state,
          to: stateTransitions.to_state,
          action: stateTransitions.action,
          actor_kind: stateTransitions.actor_kind,
          actor_id: stateTransitions.actor_id,
          at: stateTransitions.at,
        })
        .from(stateTransitions)
        .where(and(eq(stateTransitions.resource, resource.name), eq(stateTransitions.record_id, id)))
        .orderBy(stateTransitions.id),
    );
  }

  /**
   * The plaintext of one sensitive, encrypted attribute (credentials an integration stored), for the
   * system actor only, in one tenant (pipeline/reveal.ts). The read action's policies still apply, the
   * row must be visible under the tenant's row-level security, and every reveal is audited (`reveal`,
   * naming the record and attribute, never the value). Null when the attribute holds none.
   */
  async revealSensitive(
    resource: AnyResource,
    ctx: ActionContext,
    id: string,
    attribute: string,
  ): Promise<string | null> {
    const action = defaultAction(resource, "read");
    try {
      assertRevealable(resource, ctx, attribute);
    } catch (err) {
      if (isSondeError(err, "SONDE_FORBIDDEN")) {
        const tenantId = ctx.actor.kind === "user" ? ctx.actor.tenantId : (ctx.tenantId ?? null);
        await this.auditForbidden(resource, action, ctx, tenantId, id, `reveal ${attribute}`);
      }
      throw err;
    }
    const auth = await this.authorizeOrAudit(resource, action, ctx);
    if (!validId(resource, id)) throw notFound(resource, id);
    const column = columnOf(resource, attribute);
    const visible = filterToSql(auth.filter, fieldResolver(resource, this.lookup), ctx.actor);
    return this.run(
      auth,
      async (tx) => {
        const rows = await tx
          .select({ value: column })
          .from(resource.table)
          .where(and(eq(pkColumn(resource), id), visible))
          .limit(1);
        const row = rows[0];
        if (row === undefined) throw notFound(resource, id);
        // Audited with the read, in its transaction: a reveal that fails to decrypt leaves no record.
        await writeAudit(tx, {
          tenantId: auth.tenantId,
          actor: ctx.actor,
          kind: "reveal",
          resource: resource.name,
          action: "reveal",
          recordId: id,
          detail: { attribute },
        });
        const value = this.openOne(resource, { [resource.primaryKey]: id, [attribute]: row.value })[
          attribute
        ];
        return typeof value === "string" ? value : null;
      },
      resource,
    );
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  async create(
    resource: AnyResource,
    ctx: ActionContext,
    input: Readonly<Rec>,
    opts: WriteOptions = {},
  ): Promise<Rec> {
    const action = pickAction(resource, "create", opts.action);
    const auth = await this.authorizeOrAudit(resource, action, ctx);
    const { values: accepted, args } = validateInput(resource, action, input, opts.arguments ?? {});
    const changeCtx: ChangeContext = {
      actor: ctx.actor,
      tenantId: auth.tenantId,
      record: undefined,
      arguments: args,
      output: new Map(),
    };
    let values = applyChanges(action, accepted, changeCtx);
    const sm = resource.spec.stateMachine;
    if (sm !== undefined) values = { ...values, [sm.attribute]: sm.initial };
    assertRequired(resource, values, action.require ?? []);
    if (!matches(auth.filter, values, ctx.actor)) {
      await this.auditForbidden(resource, action, ctx, auth.tenantId, undefined, "policy filter on create");
      throw forbidden(resource, action);
    }
    if (resource.tenancy === "tenant" && auth.tenantId === null) {
      throw new SondeError("SONDE_BAD_REQUEST", `${resource.plural} belong to a tenant: name one`);
    }
    // Encrypted last: the policy check above and the changes saw plaintext; only the write sees ciphertext.
    const stored = this.cipher.seal(resource, values);
    const row =
      resource.tenantKey !== undefined ? { ...stored, [resource.tenantKey]: auth.tenantId } : stored;
    const record = await this.write(
      auth,
      resource,
      action,
      ctx,
      async (tx) => {
        await assertReferencesVisible(tx, resource, values, ctx, auth.scope, this.lookup);
        const quota = await lockQuota(tx, resource, this.lookup, auth.tenantId);
        const base = tx.insert(resource.table).values(row);
        const pk = pkColumn(resource);
        const identity = action.upsertIdentity
          ? resource.spec.identities?.[action.upsertIdentity]
          : undefined;
        const inserted = identity
          ? await base
              .onConflictDoUpdate({
                target: [
                  ...(resource.tenantColumn !== undefined ? [resource.tenantColumn] : []),
                  ...identity.map((f) => columnOf(resource, f)),
                ],
                set: stored,
              })
              .returning({ id: pk })
          : await base.returning({ id: pk });
        await quota.verify();
        const id = String(inserted[0]?.id);
        return { id, event: action.name, recordId: id };
      },
      args,
      changeCtx.output,
    );
    await this.afterCommit(resource, action, ctx, auth, record, changeCtx.output, opts.output);
    return record;
  }

  async update(
    resource: AnyResource,
    ctx: ActionContext,
    id: string,
    input: Readonly<Rec>,
    opts: WriteOptions = {},
  ): Promise<Rec> {
    const action = pickAction(resource, "update", opts.action);
    return this.modify(resource, action, ctx, id, input, opts);
  }

  async destroy(
    resource: AnyResource,
    ctx: ActionContext,
    id: string,
    opts: WriteOptions = {},
  ): Promise<void> {
    const action = pickAction(resource, "destroy", opts.action);
    await this.modify(resource, action, ctx, id, {}, opts);
  }

  /** Runs any action by name: the entry point for custom actions (routes, jobs, triggers, CLI). */
  async runAction(
    resource: AnyResource,
    name: string,
    ctx: ActionContext,
    params: {
      id?: string;
      input?: Readonly<Rec>;
      arguments?: Readonly<Rec>;
      guard?: Filter;
      output?: (values: Record<string, unknown>) => void;
    } = {},
  ): Promise<Rec | undefined> {
    const action = this.action(resource, name);
    const opts: WriteOptions = {
      action: name,
      arguments: params.arguments ?? {},
      ...(params.guard ? { guard: params.guard } : {}),
      ...(params.output ? { output: params.output } : {}),
    };
    switch (action.type) {
      case "create":
        return this.create(resource, ctx, params.input ?? {}, opts);
      case "read":
        return this.get(resource, ctx, this.requireId(params.id));
      case "update":
        return this.update(resource, ctx, this.requireId(params.id), params.input ?? {}, opts);
      case "destroy":
        await this.destroy(resource, ctx, this.requireId(params.id), opts);
        return undefined;
    }
  }

  /**
   * Runs a bulk action (ActionSpec.bulk): authorized like any action (refusals audited), then `fn`
   * does set-based work in the tenant's row-level-security transaction; its events go to the outbox
   * in the same transaction and system actors' runs are audited, as for single writes. For work that
   * record-by-record actions cannot do fast enough (ingesting thousands of devices a second).
   */
  async bulk<T>(
    resource: AnyResource,
    name: string,
    ctx: ActionContext,
    fn: (bulk: BulkContext) => Promise<BulkOutcome<T>>,
  ): Promise<T> {
    const action = this.action(resource, name);
    if (action.bulk !== true)
      throw new SondeError("SONDE_INTERNAL", `${resource.name} ${name} is not a bulk action`);
    const auth = await this.authorizeOrAudit(resource, action, ctx);
    // Set-based writes cannot honour a row filter (a policy allowing only some rows): refuse rather
    // than write rows the actor may not touch.
    if (auth.filter !== true) {
      throw new SondeError(
        "SONDE_FORBIDDEN",
        `not allowed to ${name} ${resource.plural}: a bulk action needs access to every row`,
        { meta: { resource: resource.name, action: name, reason: "row filter" } },
      );
    }
    const tenantId = auth.tenantId;
    if (resource.tenancy !== "tenant" || tenantId === null) {
      throw new SondeError("SONDE_BAD_REQUEST", `${resource.plural} belong to a tenant: name one`);
    }
    let wroteEvent = false;
    const result = await this.run(
      auth,
      async (tx) => {
        const outcome = await fn({ tx, tenantId, actor: ctx.actor });
        const events = outcome.events ?? [];
        if (events.length > 0 && resource.spec.events !== false) {
          const slug = await this.slugs.of(tx, tenantId);
          for (const e of events) {
            await enqueueEvent(tx, {
              tenantId,
              subject: eventSubject(slug, resource, e.event),
              payload: { resource: resource.name, action: e.event, actor: actorId(ctx.actor), ...e.payload },
            });
          }
          wroteEvent = true;
        }
        if (ctx.actor.kind === "system" && action.auditSystem !== false) {
          await writeAudit(tx, {
            tenantId,
            actor: ctx.actor,
            kind: "system_write",
            resource: resource.name,
            action: name,
          });
        }
        return outcome.result;
      },
      resource,
    );
    if (wroteEvent) this.opts.onOutboxWrite?.();
    return result;
  }

  /** Update and destroy: lock the visible row, check the action's policy on it, guard the state, write. */
  private async modify(
    resource: AnyResource,
    action: NamedAction,
    ctx: ActionContext,
    id: string,
    input: Readonly<Rec>,
    opts: WriteOptions,
  ): Promise<Rec> {
    const guard = opts.guard;
    const rawArgs = opts.arguments ?? {};
    const output = new Map<string, unknown>();
    const readAuth = await this.authorizeOrAudit(resource, defaultAction(resource, "read"), ctx);
    const auth = await this.authorizeOrAudit(resource, action, ctx);
    if (!validId(resource, id)) throw notFound(resource, id);
    const { values: accepted, args } = validateInput(resource, action, input, rawArgs);
    const pk = pkColumn(resource);
    const resolve = fieldResolver(resource, this.lookup);
    let forbiddenRow = false;
    try {
      const record = await this.write(
        auth,
        resource,
        action,
        ctx,
        async (tx) => {
          const locked = (
            await tx
              .select()
              .from(resource.table)
              .where(and(eq(pk, id), filterToSql(readAuth.filter, resolve, ctx.actor)))
              .for("update")
          )[0] as Rec | undefined;
          if (locked === undefined) throw notFound(resource, id);
          // Guards and changes see the record as callers know it, in plaintext.
          const current = this.openOne(resource, locked);
          if (guard !== undefined && !(await this.guardHolds(tx, resource, id, guard, ctx.actor))) {
            throw new SondeError(
              "SONDE_GUARD_FAILED",
              `${resource.name} ${id} no longer matches the condition for ${action.name}`,
              {
                meta: { resource: resource.name, action: action.name },
              },
            );
          }
          if (!matches(auth.filter, current, ctx.actor)) {
            forbiddenRow = true;
            throw forbidden(resource, action);
          }
          const changeCtx: ChangeContext = {
            actor: ctx.actor,
            tenantId: auth.tenantId,
            record: current,
            arguments: args,
            output,
          };
          const changed = applyChanges(action, accepted, changeCtx);
          await assertReferencesVisible(tx, resource, changed, ctx, auth.scope, this.lookup);
          const values = this.cipher.seal(resource, changed);

          if (action.type === "destroy") {
            await tx.delete(resource.table).where(eq(pk, id));
            return { id, event: action.name, recordId: id, deleted: true };
          }
          const transition = resource.transitionsByAction.get(action.name);
          const sm = resource.spec.stateMachine;
          if (transition !== undefined && sm !== undefined) {
            const stateCol = columnOf(resource, sm.attribute);
            const updated = await tx
              .update(resource.table)
              .set({ ...values, [sm.attribute]: transition.to })
              .where(and(eq(pk, id), inArray(stateCol, [...transition.from])))
              .returning({ id: pk });
            if (updated.length === 0)
              throw invalidTransition(resource, action.name, String(current[sm.attribute]));
            await tx.insert(stateTransitions).values({
              tenant_id: auth.tenantId,
              resource: resource.name,
              record_id: id,
              from_state: String(current[sm.attribute]),
              to_state: transition.to,
              action: action.name,
              actor_kind: ctx.actor.kind,
              actor_id: actorId(ctx.actor),
            });
            await writeAudit(tx, {
              tenantId: auth.tenantId,
              actor: ctx.actor,
              kind: "transition",
              resource: resource.name,
              action: action.name,
              recordId: id,
              detail: { from: String(current[sm.attribute]), to: transition.to },
            });
          } else if (Object.keys(values).length > 0) {
            await tx.update(resource.table).set(values).where(eq(pk, id));
          }
          return { id, event: action.name, recordId: id };
        },
        args,
        output,
      );
      await this.afterCommit(resource, action, ctx, auth, record, output, opts.output);
      return record;
    } catch (err) {
      if (forbiddenRow)
        await this.auditForbidden(resource, action, ctx, auth.tenantId, id, "policy filter on record");
      throw err;
    }
  }

  /**
   * The write transaction: runs `fn` in scope, then (same transaction) the outbox row, the audit of
   * system writes, and the read-back of the record; after commit, nudges the outbox relay.
   */
  private async write(
    auth: Authorization,
    resource: AnyResource,
    action: NamedAction,
    ctx: ActionContext,
    fn: (tx: Tx) => Promise<{ id: string; event: string; recordId: string; deleted?: boolean }>,
    args: Readonly<Rec> = {},
    output: Map<string, unknown> = new Map(),
  ): Promise<Rec> {
    let wroteEvent = false;
    const result = await this.run(
      auth,
      async (tx) => {
        const done = await fn(tx);
        const stored = done.deleted
          ? { [resource.primaryKey]: done.id }
          : await this.selectOne(tx, resource, { ...auth, filter: true }, done.id, [], ctx.actor);
        if (stored === undefined)
          throw new SondeError("SONDE_INTERNAL", `${resource.name} ${done.id} vanished after write`);
        if (action.within !== undefined && done.deleted !== true) {
          await action.within({
            tx,
            record: this.openOne(resource, stored),
            actor: ctx.actor,
            tenantId: auth.tenantId,
            arguments: args,
            output,
          });
        }
        if (resource.spec.events !== false && action.event !== false) {
          const slug = await this.slugs.of(tx, auth.tenantId);
          await enqueueEvent(tx, {
            tenantId: auth.tenantId,
            subject: eventSubject(slug, resource, action.event ?? done.event),
            payload: {
              resource: resource.name,
              action: done.event,
              id: done.id,
              actor: actorId(ctx.actor),
              // Events cross process boundaries on the bus: encrypted attributes stay out of them.
              record: this.cipher.forEvent(resource, stored),
            },
          });
          wroteEvent = true;
        }
        if (ctx.actor.kind === "system" && action.auditSystem !== false) {
          await writeAudit(tx, {
            tenantId: auth.tenantId,
            actor: ctx.actor,
            kind: "system_write",
            resource: resource.name,
            action: action.name,
            recordId: done.id,
          });
        }
        return this.openOne(resource, stored);
      },
      resource,
    );
    if (wroteEvent) this.opts.onOutboxWrite?.();
    return result;
  }

  /**
   * Moves every encrypted attribute value not under the keyring's active key to it, across tenants
   * (`sonde keys rotate`; see pipeline/reencrypt.ts). Returns per-resource counts.
   */
  reencrypt(opts: ReencryptOptions = {}): Promise<ReencryptCount[]> {
    if (this.opts.keyring === undefined)
      throw new SondeError("SONDE_CONFIG_INVALID", "the kernel has no keyring");
    return reencryptAll(this.opts.orm, this.resources.values(), this.opts.keyring, opts);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private openOne(resource: AnyResource, record: Rec): Rec {
    return this.cipher.open(resource, [record])[0] ?? record;
  }

  /**
   * Runs in the authorization's scope and turns database errors into catalogue errors. A record under
   * an encryption key this process has not loaded means another process rotated: the keyring is
   * reloaded outside the transaction (PGlite has one connection: a query inside would wait on itself)
   * and the operation, rolled back, runs once more.
   */
  private async run<T>(auth: Authorization, fn: (tx: Tx) => Promise<T>, resource?: AnyResource): Promise<T> {
    try {
      return await this.runOnce(auth, fn, resource);
    } catch (err) {
      if (!isUnknownKey(err) || this.opts.keyring === undefined) throw err;
      await this.opts.keyring.reload();
      return this.runOnce(auth, fn, resource);
    }
  }

  private async runOnce<T>(
    auth: Authorization,
    fn: (tx: Tx) => Promise<T>,
    resource?: AnyResource,
  ): Promise<T> {
    try {
      return await inScope(this.opts.orm, auth.scope, fn);
    } catch (err) {
      if (isSondeError(err)) throw err;
      const classified = classifyDbError(err);
      throw resource !== undefined && classified.code === "SONDE_DB_UNIQUE_VIOLATION"
        ? describeUniqueViolation(resource, classified)
        : classified;
    }
  }

  /**
   * Whether the row (locked by the caller's transaction) meets `guard`. In SQL rather than in memory,
   * because a trigger's `where` may name calculations ("due: next_sync_at <= now()"), which the
   * locked row as stored does not carry.
   */
  private async guardHolds(tx: Tx, resource: AnyResource, id: string, guard: Filter, actor: Actor) {
    const pk = pkColumn(resource);
    const rows = await tx
      .select({ id: pk })
      .from(resource.table)
      .where(and(eq(pk, id), filterToSql(guard, fieldResolver(resource, this.lookup), actor)))
      .limit(1);
    return rows.length > 0;
  }

  private async selectOne(
    tx: Tx,
    resource: AnyResource,
    auth: Pick<Authorization, "filter">,
    id: string,
    aggregates: readonly string[],
    actor: Actor,
  ): Promise<Rec | undefined> {
    const rows = await tx
      .select(projection(resource, this.lookup, aggregates))
      .from(resource.table)
      .where(
        and(
          eq(pkColumn(resource), id),
          // The actor's own: a filter naming the actor (`user_id = actor.id`) must compare with them.
          filterToSql(auth.filter, fieldResolver(resource, this.lookup), actor),
        ),
      )
      .limit(1);
    return rows[0] as Rec | undefined;
  }

  private async authorizeOrAudit(
    resource: AnyResource,
    action: NamedAction,
    ctx: ActionContext,
  ): Promise<Authorization> {
    try {
      const auth = authorize(resource, action, ctx);
      if (auth.bypassed && ctx.actor.kind === "user") {
        await this.audit({
          tenantId: auth.tenantId,
          actor: ctx.actor,
          kind: "bypass",
          resource: resource.name,
          action: action.name,
          detail: { crossTenant: ctx.crossTenant === true, checks: [...auth.applied] },
        });
      }
      return auth;
    } catch (err) {
      if (isSondeError(err, "SONDE_FORBIDDEN")) {
        const tenantId = ctx.actor.kind === "user" ? ctx.actor.tenantId : (ctx.tenantId ?? null);
        await this.auditForbidden(
          resource,
          action,
          ctx,
          tenantId,
          undefined,
          String(err.meta?.reason ?? err.message),
        );
      }
      throw err;
    }
  }

  private async auditForbidden(
    resource: AnyResource,
    action: NamedAction,
    ctx: ActionContext,
    tenantId: string | null,
    recordId: string | undefined,
    reason: string,
  ): Promise<void> {
    await this.audit({
      tenantId,
      actor: ctx.actor,
      kind: "forbidden",
      resource: resource.name,
      action: action.name,
      recordId,
      detail: { reason },
    });
  }

  /** Audit in its own transaction: it must survive the refused action's rollback. */
  private async audit(entry: AuditEntry): Promise<void> {
    try {
      await inScope(this.opts.orm, { tenantId: entry.tenantId, bypass: entry.tenantId === null }, (tx) =>
        writeAudit(tx, entry),
      );
    } catch (err) {
      this.opts.logger.error(
        { err, audit: { ...entry, actor: actorId(entry.actor) } },
        "could not write audit event",
      );
    }
  }

  private async afterCommit(
    resource: AnyResource,
    action: NamedAction,
    ctx: ActionContext,
    auth: Authorization,
    record: Rec,
    output: ReadonlyMap<string, unknown>,
    receive: WriteOptions["output"],
  ): Promise<void> {
    if (action.afterCommit === undefined && receive === undefined) return;
    await afterCommit(
      { action, resourceName: resource.name, record, output, actor: ctx.actor, tenantId: auth.tenantId },
      this.opts.services ?? {},
      this.opts.logger,
      receive,
    );
  }

  private requireId(id: string | undefined): string {
    if (id === undefined) throw new SondeError("SONDE_BAD_REQUEST", "this action needs a record id");
    return id;
  }
}
