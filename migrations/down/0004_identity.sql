drop policy if exists "memberships_system_access" on "memberships";
drop policy if exists "memberships_tenant_isolation" on "memberships";
DROP TABLE "memberships";
DROP TABLE "apikey";
DROP TABLE "account";
DROP TABLE "session";
DROP TABLE "verification";
DROP TABLE "user";
