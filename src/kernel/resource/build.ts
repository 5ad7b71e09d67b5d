import { getTableColumns } from "drizzle-orm";
import { type PgColumn, type PgTable, getTableConfig } from "drizzle-orm/pg-core";
import { SondeError } from "../../lib/errors.js";
import { filterFields } from "../filter.js";
import type { PolicyContext } from "../policy/types.js";
import type { ActionSpec, Resource, ResourceSpec, Transition } from "./types.js";

function bad(resource: string, message: string): SondeError {
  return new SondeError("SONDE_CONFIG_INVALID", `resource ${resource}: ${message}`);
}

const NAME = /^[a-z][a-z0-9_]*$/;

function kebab(s: string): string {
  return s.replace(/_/g, "-");
}

/** Builds a resource from its declaration, filling defaults and rejecting what cannot work. */
export function buildResource<T extends PgTable>(spec: ResourceSpec<T>): Resource<T> {
  const name = spec.name;
  if (!NAME.test(name)) throw bad(name, "name must be snake_case (a-z, 0-9, _)");
  const plural = spec.plural ?? `${name}s`;
  const allColumns = getTableColumns(spec.table) as Record<string, PgColumn>;
  const tenantKey = Object.entries(allColumns).find(([, c]) => c.name === "tenant_id")?.[0];
  if (spec.tenancy === "tenant" && tenantKey === undefined) {
    throw bad(name, `is tenant-scoped but table ${getTableConfig(spec.table).name} has no tenant_id column`);
  }
  const columns = new Map(Object.entries(allColumns).filter(([key]) => key !== tenantKey));
  const has = (field: string) => columns.has(field);

  const primaryKey = spec.primaryKey ?? "id";
  if (!has(primaryKey)) throw bad(name, `primary key ${primaryKey} is not a column`);
  // JSON:API reserves `type` and `id` as member names; only the primary key may be called id.
  for (const reserved of ["type", "id"]) {
    if (has(reserved) && reserved !== primaryKey)
      throw bad(name, `attribute ${reserved} is reserved by JSON:API`);
  }

  const sensitive = new Set<string>();
  const encrypted = new Set<string>();
  const filterable = new Set<string>();
  const arrayAttributes = new Set<string>();
  for (const [field, column] of columns) {
    const opts = spec.attributes?.[field as keyof typeof spec.attributes];
    if (opts?.sensitive) sensitive.add(field);
    if (opts?.encrypted) encrypted.add(field);
    // Ciphertext is random per value: a filter or a sort on it would answer nonsense, so never.
    if (!opts?.sensitive && !opts?.encrypted && opts?.filterable !== false) filterable.add(field);
    if (column.columnType.endsWith("Array") || column.getSQLType().endsWith("[]")) arrayAttributes.add(field);
  }
  for (const field of Object.keys(spec.attributes ?? {})) {
    if (!has(field)) throw bad(name, `attribute options name unknown attribute ${field}`);
  }
  for (const [identity, fields] of Object.entries(spec.identities ?? {})) {
    for (const f of fields) if (!has(f)) throw bad(name, `identity ${identity} names unknown attribute ${f}`);
  }

  const actions = new Map<string, ActionSpec<T> & { name: string }>();
  for (const [actionName, action] of Object.entries(spec.actions)) {
    if (!NAME.test(actionName)) throw bad(name, `action name ${actionName} must be snake_case`);
    for (const f of [...(action.accept ?? []), ...(action.require ?? [])]) {
      if (!has(f)) throw bad(name, `action ${actionName} accepts unknown attribute ${f}`);
      if (f === primaryKey && action.type !== "create") {
        throw bad(name, `action ${actionName} may not accept the primary key ${f}`);
      }
    }
    if (action.upsertIdentity !== undefined && !(action.upsertIdentity in (spec.identities ?? {}))) {
      throw bad(name, `action ${actionName} upserts on unknown identity ${action.upsertIdentity}`);
    }
    if (action.upsertIdentity !== undefined && action.type !== "create") {
      throw bad(name, `action ${actionName} upserts but is not a create action`);
    }
    if (action.route !== undefined && action.type !== "update" && action.type !== "destroy") {
      throw bad(name, `action ${actionName} has a route but only update and destroy actions take one`);
    }
    actions.set(actionName, { ...action, name: actionName });
  }
  if (![...actions.values()].some((a) => a.type === "read")) throw bad(name, "declares no read action");

  const transitionsByAction = new Map<string, Transition>();
  const sm = spec.stateMachine;
  if (sm !== undefined) {
    if (!has(sm.attribute)) throw bad(name, `state machine attribute ${sm.attribute} is not a column`);
    const states = new Set(sm.states);
    if (!states.has(sm.initial)) throw bad(name, `state machine initial state ${sm.initial} is not declared`);
    for (const t of sm.transitions) {
      const action = actions.get(t.action);
      if (action === undefined) throw bad(name, `transition names unknown action ${t.action}`);
      if (action.type !== "update") throw bad(name, `transition action ${t.action} must be an update action`);
      if (action.accept?.includes(sm.attribute)) {
        throw bad(name, `transition action ${t.action} may not also accept ${sm.attribute}`);
      }
      if (transitionsByAction.has(t.action)) throw bad(name, `action ${t.action} has two transitions`);
      for (const s of [...t.from, t.to]) {
        if (!states.has(s)) throw bad(name, `transition ${t.action} names undeclared state ${s}`);
      }
      transitionsByAction.set(t.action, t);
    }
    for (const a of actions.values()) {
      if (a.accept?.includes(sm.attribute)) {
        throw bad(
          name,
          `action ${a.name} accepts the state attribute ${sm.attribute}; only transitions change it`,
        );
      }
    }
  }

  for (const [rel, r] of Object.entries(spec.relationships ?? {})) {
    if (r.kind === "belongs_to" && !has(r.sourceField)) {
      throw bad(name, `relationship ${rel} names unknown attribute ${r.sourceField}`);
    }
  }
  for (const [agg, a] of Object.entries(spec.aggregates ?? {})) {
    const rel = spec.relationships?.[a.relationship];
    if (rel === undefined) throw bad(name, `aggregate ${agg} names unknown relationship ${a.relationship}`);
    if (rel.kind !== "has_many") throw bad(name, `aggregate ${agg} needs a has_many relationship`);
    if (a.kind !== "count" && a.field === undefined)
      throw bad(name, `aggregate ${agg} (${a.kind}) needs a field`);
  }
  const names = [
    ...columns.keys(),
    ...Object.keys(spec.calculations ?? {}),
    ...Object.keys(spec.aggregates ?? {}),
    ...Object.keys(spec.relationships ?? {}),
  ];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined)
    throw bad(name, `${dup} is declared twice (attribute, calculation, aggregate or relationship)`);

  verifyEncrypted(spec, columns, encrypted, primaryKey);
  verifyPolicies(spec, actions, has, encrypted);
  // Event names become subject tokens: one token each, never a wildcard.
  const token = /^[a-z0-9_-]+$/;
  if (spec.eventArea !== undefined && !token.test(spec.eventArea))
    throw bad(name, `eventArea ${spec.eventArea} is not one subject token ([a-z0-9_-]+)`);
  for (const [actionName, a] of actions) {
    if (typeof a.event === "string" && !token.test(a.event))
      throw bad(name, `action ${actionName}: event ${a.event} is not one subject token ([a-z0-9_-]+)`);
  }

  return {
    spec,
    name,
    plural,
    type: kebab(plural),
    table: spec.table,
    tenancy: spec.tenancy,
    primaryKey,
    tenantKey,
    tenantColumn: tenantKey === undefined ? undefined : allColumns[tenantKey],
    columns,
    sensitive,
    encrypted,
    filterable,
    arrayAttributes,
    actions,
    transitionsByAction,
  };
}

/** Encrypted attributes hold ciphertext in the database: nothing may compare or index them there. */
function verifyEncrypted<T extends PgTable>(
  spec: ResourceSpec<T>,
  columns: ReadonlyMap<string, PgColumn>,
  encrypted: ReadonlySet<string>,
  primaryKey: string,
): void {
  const name = spec.name;
  for (const field of encrypted) {
    const type = columns.get(field)?.getSQLType();
    if (type !== "text")
      throw bad(name, `encrypted attribute ${field} must be a text column (it is ${type})`);
    if (spec.attributes?.[field as keyof typeof spec.attributes]?.filterable === true) {
      throw bad(name, `encrypted attribute ${field} cannot be filterable`);
    }
    if (field === primaryKey) throw bad(name, `the primary key ${field} cannot be encrypted`);
    if (spec.stateMachine?.attribute === field)
      throw bad(name, `state attribute ${field} cannot be encrypted`);
  }
  for (const [identity, fields] of Object.entries(spec.identities ?? {})) {
    const f = fields.find((x) => encrypted.has(x));
    if (f !== undefined) throw bad(name, `identity ${identity} names encrypted attribute ${f}`);
  }
  for (const [rel, r] of Object.entries(spec.relationships ?? {})) {
    if (r.kind === "belongs_to" && encrypted.has(r.sourceField)) {
      throw bad(name, `relationship ${rel} keys on encrypted attribute ${r.sourceField}`);
    }
  }
}

/**
 * Asks every policy about every action with a probe actor per role, so that a filter check naming an
 * unknown attribute fails at boot, not on the first request that reaches it.
 */
function verifyPolicies<T extends PgTable>(
  spec: ResourceSpec<T>,
  actions: ReadonlyMap<string, ActionSpec<T> & { name: string }>,
  has: (f: string) => boolean,
  encrypted: ReadonlySet<string>,
): void {
  if (spec.policies.length === 0) throw bad(spec.name, "declares no policies: nothing could ever be allowed");
  for (const action of actions.values()) {
    for (const role of ["viewer", "operator", "admin"] as const) {
      const ctx: PolicyContext = {
        actor: {
          kind: "user",
          id: "00000000-0000-0000-0000-000000000000",
          tenantId: "",
          role,
          superUser: false,
        },
        resource: spec.name,
        action: { name: action.name, type: action.type },
      };
      for (const p of spec.policies) {
        const checks = p.kind === "bypass" ? [] : p.steps.map((s) => s.check);
        for (const c of checks) {
          if (c.kind !== "filter") continue;
          for (const f of filterFields(c.filter(ctx))) {
            // A calculation is allowed: reads filter on it in SQL. Writes check the filter against the
            // stored attributes, where a calculation is absent, so it can only refuse them (deny-safe).
            if (!has(f) && spec.calculations?.[f] === undefined)
              throw bad(spec.name, `policy filter "${c.describe}" names unknown attribute ${f}`);
            if (encrypted.has(f)) {
              throw bad(spec.name, `policy filter "${c.describe}" names encrypted attribute ${f}`);
            }
          }
        }
      }
    }
  }
}
