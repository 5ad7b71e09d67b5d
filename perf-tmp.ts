import { systemActor } from "./src/kernel/actor.js";
import { Kernel } from "./src/kernel/kernel.js";
import { IdentityCache } from "./src/domains/inventory/dire/identity-cache.js";
import { DeviceIngest } from "./src/domains/inventory/dire/ingest.js";
import { openKeyring } from "./src/platform/crypto/index.js";
import { migrateUp, openDatabase } from "./src/platform/db/index.js";
import { coreResources } from "./src/roles/resources.js";
import { pino } from "pino";
import pg from "pg";

const logger = pino({ level: "silent" });
const admin = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/postgres" });
await admin.connect();
await admin.query("drop database if exists sonde_perf with (force)");
await admin.query("create database sonde_perf");
const db = await openDatabase({ url: "postgres://postgres@127.0.0.1:5432/sonde_perf", poolMax: 4, connectAttempts: 3, logger } as never);
await migrateUp(db);
const keyring = await openKeyring(db.orm, "perf-secret-that-is-long-enough-0123456789abcdef");
const kernel = new Kernel({ orm: db.orm, resources: coreResources, logger, keyring });
const system = systemActor("perf");
const t = await kernel.create(kernel.resource("tenant"), { actor: system, tenantId: null }, { slug: "perf", name: "perf" });
const ingest = new DeviceIngest({ kernel, logger, cache: new IdentityCache(), batchSize: Number(process.env.BATCH ?? 1000) });
const N = Number(process.env.N ?? 50000);
const mk = (i: number, pass: number) => ({
  ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  mac: `00:20:${((i >> 24) & 255).toString(16).padStart(2, "0")}:${((i >> 16) & 255).toString(16).padStart(2, "0")}:${((i >> 8) & 255).toString(16).padStart(2, "0")}:${(i & 255).toString(16).padStart(2, "0")}`,
  hostname: `host-${i}`,
  source: "armis",
  vendor_name: "Cisco",
  timestamp: new Date(Date.UTC(2026, 10, 1) + pass * 3600_000).toISOString(),
  metadata: { armis_device_id: `A${i}` },
});
for (const pass of [0, 1]) {
  const data = Array.from({ length: N }, (_, i) => mk(i, pass));
  const t0 = performance.now();
  const r = await ingest.ingest({ actor: system, tenantId: String(t.id) }, data);
  const s = (performance.now() - t0) / 1000;



  console.log(`pass ${pass}: ${(N / s).toFixed(0)} updates/s`, { ...r, rejected: r.rejected.length });
}
await db.close();
if (!process.env.KEEP) await admin.query("drop database if exists sonde_perf with (force)");
await admin.end();
