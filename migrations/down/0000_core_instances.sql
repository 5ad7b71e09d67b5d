drop table if exists "core_instances";
