-- Drops the infrastructure tables (their RLS policies go with them), dependants first.
DROP TABLE "checkers" CASCADE;
DROP TABLE "agents" CASCADE;
DROP TABLE "pollers" CASCADE;
DROP TABLE "partitions" CASCADE;
