/**
 * Row-level security for tenant-scoped tables: the database's own lock behind the kernel's policies.
 *
 * Two roles, neither superuser nor owner of any table, so RLS applies to both:
 * - `sonde_app` runs every tenant's transaction, with `app.tenant_id` set for that transaction only.
 *   Its policy is a plain equality on tenant_id, which the planner turns into an index condition (an
 *   `OR bypass` in the same policy would force a scan of every tenant's rows). The setting is read
 *   through a sub-select so that it is evaluated once per query, not once per row.
 * - `sonde_system` is the explicit, audited way across tenants (the system actor without a tenant, a
 *   super user's cross-tenant read); only the kernel switches to it, never a handler.
 */

export const APP_ROLE = "sonde_app";
export const SYSTEM_ROLE = "sonde_system";

const quote = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

export const TENANT_PREDICATE =
  "tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)";

/** SQL that puts a tenant-scoped table under RLS (ENABLE + FORCE) with one policy per role. */
export function tenantRlsSql(table: string): string {
  const t = quote(table);
  return [
    `alter table ${t} enable row level security;`,
    `alter table ${t} force row level security;`,
    `create policy ${quote(`${table}_tenant_isolation`)} on ${t} for all to ${APP_ROLE} using (${TENANT_PREDICATE}) with check (${TENANT_PREDICATE});`,
    `create policy ${quote(`${table}_system_access`)} on ${t} for all to ${SYSTEM_ROLE} using (true) with check (true);`,
  ].join("\n");
}

/** SQL that undoes `tenantRlsSql` (for down migrations). */
export function dropTenantRlsSql(table: string): string {
  const t = quote(table);
  return [
    `drop policy if exists ${quote(`${table}_system_access`)} on ${t};`,
    `drop policy if exists ${quote(`${table}_tenant_isolation`)} on ${t};`,
    `alter table ${t} no force row level security;`,
    `alter table ${t} disable row level security;`,
  ].join("\n");
}
