import { accessSync, constants } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";

/**
 * Whether suites that need PostgreSQL or NATS must run. With REQUIRE_SERVICES=1 (CI) a missing
 * service fails the suite; otherwise the suite is skipped and the runner says why.
 */
export const servicesRequired = process.env.REQUIRE_SERVICES === "1";

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const TEST_NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

/** True when something accepts TCP connections at the URL's host and port (bounded by timeoutMs). */
export function reachable(url: string, defaultPort: number, timeoutMs = 1_000): Promise<boolean> {
  const u = new URL(url);
  const port = u.port === "" ? defaultPort : Number(u.port);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export const postgresAvailable = await reachable(TEST_DATABASE_URL, 5432);
export const natsAvailable = await reachable(TEST_NATS_URL, 4222);

/**
 * Decides whether a suite for a real service runs. When the service is missing: in CI mode this throws
 * (the suite fails at collection), otherwise the suite is skipped with the reason printed once.
 */
export function serviceGate(name: "postgres" | "nats"): { run: boolean } {
  const available = name === "postgres" ? postgresAvailable : natsAvailable;
  if (available) return { run: true };
  const where = name === "postgres" ? TEST_DATABASE_URL : TEST_NATS_URL;
  if (servicesRequired) {
    throw new Error(`REQUIRE_SERVICES=1 but ${name} is not reachable at ${where}`);
  }
  process.stderr.write(`[skip] ${name} is not reachable at ${where}: its suites are skipped\n`);
  return { run: false };
}

/** Whether `name` is an executable on PATH. */
function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The system's ping tools, which the agent's ICMP checks run: like a service, required in CI (which
 * installs them) and otherwise skipped with the reason when missing.
 */
export function pingGate(): { run: boolean } {
  const missing = ["fping", "ping"].filter((tool) => !onPath(tool));
  if (missing.length === 0) return { run: true };
  if (servicesRequired) throw new Error(`REQUIRE_SERVICES=1 but ${missing.join(" and ")} not on PATH`);
  process.stderr.write(`[skip] ${missing.join(" and ")} not on PATH: live ICMP tests are skipped\n`);
  return { run: false };
}
