/** The drizzle schema: every table Sonde declares, gathered for drizzle's relational queries. */
export * from "./platform.schema.js";
