import type { Command } from "commander";
import { writeOutputFiles } from "../platform/fabric/certs/index.js";
import { AUTH_FILE, planNatsAuth } from "../platform/fabric/nats-auth/index.js";

export interface NatsConfigCommand {
  readonly tenants: readonly string[];
  readonly out: string;
  readonly serverUrl: string;
  readonly rotate: boolean;
}

/**
 * `sonde nats-config`: the authorization fragment and one credentials file per user, all 0600. The
 * files are regenerated on every run (passwords kept unless --rotate); no password is ever printed.
 */
export function runNatsConfig(o: NatsConfigCommand): string[] {
  const plan = planNatsAuth({ dir: o.out, tenants: o.tenants, serverUrl: o.serverUrl, rotate: o.rotate });
  const paths = writeOutputFiles(o.out, plan.files, { force: true });
  return [
    `wrote ${paths[0] ?? AUTH_FILE} (0600): include it from nats-server's configuration`,
    ...plan.users.map(
      (u, i) =>
        `user ${u.user}: credentials in ${paths[i + 1] ?? u.file} (0600)${u.kept ? ", password kept" : ""}`,
    ),
  ];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerNatsConfigCommand(root: Command): void {
  root
    .command("nats-config")
    .description(
      "write nats-server authorization: a core user and one confined user per tenant, with credentials files",
    )
    .option(
      "--tenant <slug>",
      "a tenant whose pollers and agents get a user (repeatable; none: only the core user)",
      collect,
    )
    .requiredOption("--out <dir>", "directory for nats-auth.conf and the credentials files")
    .option("--server-url <url>", "the NATS URL written into the credentials files", "nats://127.0.0.1:4222")
    .option("--rotate", "new passwords for every user (by default existing ones in --out are kept)")
    .action((o: { tenant?: string[]; out: string; serverUrl: string; rotate?: boolean }) => {
      for (const line of runNatsConfig({ ...o, tenants: o.tenant ?? [], rotate: o.rotate === true })) {
        process.stdout.write(`${line}\n`);
      }
    });
}
