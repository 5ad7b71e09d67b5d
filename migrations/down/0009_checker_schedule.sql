-- Drops the scheduling columns of checkers.
DROP INDEX IF EXISTS "checkers_due";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "last_result";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "last_response_time_ms";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "last_result_due_at";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "last_dispatched_at";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "next_run_at";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "timeout_ms";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "interval_seconds";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "port";
ALTER TABLE "checkers" DROP COLUMN IF EXISTS "details";
