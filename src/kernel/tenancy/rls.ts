/**
 * Row-level security for tenant-scoped tables: the database's own lock behind the kernel's policies.
 *
 * Application transactions run as `sonde_app` (neither superuser nor owner, so RLS applies) with
 * `app.tenant_id` set for the transaction only. The setting is read through a sub-select so that the
 * planner evaluates it once per query, not once per row. `app.bypass_rls = 'on'` is the explicit,
 * audited way across tenants (super users, the system actor); the kernel sets it, never a handler.
 */

export const APP_ROLE = "sonde_app";

const quote = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

export const TENANT_PREDICATE =
  "tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)" +
  " or (select current_setting('app.bypass_rls', true)) = 'on'";

/** SQL that puts a tenant-scoped table under RLS (ENABLE + FORCE) with the tenant policy. */
export function tenantRlsSql(table: string): string {
  const t = quote(table);
  return [
    `alter table ${t} enable row level security;`,
    `alter table ${t} force row level security;`,
    `create policy ${quote(`${table}_tenant_isolation`)} on ${t} for all to public using (${TENANT_PREDICATE}) with check (${TENANT_PREDICATE});`,
  ].join("\n");
}

/** SQL that undoes `tenantRlsSql` (for down migrations). */
export function dropTenantRlsSql(table: string): string {
  const t = quote(table);
  return [
    `drop policy if exists ${quote(`${table}_tenant_isolation`)} on ${t};`,
    `alter table ${t} no force row level security;`,
    `alter table ${t} disable row level security;`,
  ].join("\n");
}
