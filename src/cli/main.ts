import { Command, CommanderError } from "commander";
import { isSondeError } from "../lib/errors.js";
import { SONDE_VERSION } from "../lib/version.js";
import { type Config, loadConfig } from "../platform/config/index.js";
import { createLogger } from "../platform/log/logger.js";
import { registerCertsCommands } from "./certs.js";
import { registerIdentityCommands } from "./identity/commands.js";
import { runKeys } from "./keys.js";
import { runMigrate } from "./migrate.js";
import { registerNatsConfigCommand } from "./nats-config.js";
import { capabilityList, componentId, positiveInt, slug } from "./options.js";
import { runRoles } from "./run-roles.js";
import { runAgent, serverTlsFromFiles } from "./run-agent.js";
import { agentServerTls, pollerClientTls } from "../roles/fabric-tls.js";
import { componentIdFromNode } from "../roles/poller.js";

interface AgentCommandOptions {
  readonly listen?: string;
  readonly agentId?: string;
  readonly tenant?: string;
  readonly partition?: string;
  readonly advertise?: string;
  readonly tlsDir?: string;
  readonly tlsCa?: string;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly insecure: boolean;
  readonly concurrency?: number;
  readonly maxBatch?: number;
}

/** Exit codes: 0 ok, 1 failure at run time, 2 bad usage, 78 bad configuration (sysexits EX_CONFIG). */
export const EXIT = { ok: 0, failure: 1, usage: 2, config: 78 } as const;

function configOrExit(options?: { createSecret?: boolean }): Config {
  try {
    return loadConfig(options);
  } catch (err) {
    if (isSondeError(err, "SONDE_CONFIG_INVALID")) {
      process.stderr.write(`sonde: invalid configuration: ${err.message}\n`);
      process.exit(EXIT.config);
    }
    throw err;
  }
}

function loggerFor(config: Config, name: string) {
  return createLogger({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    name,
    node: config.SONDE_NODE_NAME,
  });
}

interface PollerFlags {
  tenant?: string;
  partition?: string;
  id?: string;
  capabilities?: string[];
  tlsDir?: string;
  insecure?: boolean;
}

function program(): Command {
  const root = new Command("sonde")
    .description("Sonde: multi-tenant control plane for network monitoring")
    .version(SONDE_VERSION, "-v, --version", "print the version")
    .showHelpAfterError()
    .exitOverride();

  const roleCommand = (name: string, roles: Parameters<typeof runRoles>[0], description: string) => {
    const command = root.command(name).description(description);
    if (roles.includes("poller")) {
      command
        .option("--tenant <slug>", "the tenant whose work the poller takes (with --partition)", slug)
        .option("--partition <slug>", "the tenant partition the poller serves (with --tenant)", slug)
        .option("--id <id>", "the poller's component id (default: the node name)", componentId)
        .option(
          "--capabilities <list>",
          "comma-separated capabilities it serves (default: all)",
          capabilityList,
        )
        .option("--tls-dir <dir>", "the poller's mTLS material for calling agents (from `sonde certs issue`)")
        .option("--insecure", "call agents over plaintext gRPC (trusted networks only; a warning is logged)");
    }
    command.action(async (opts: PollerFlags) => {
      if ((opts.tenant === undefined) !== (opts.partition === undefined)) {
        command.error("error: --tenant and --partition go together", { exitCode: EXIT.usage });
      }
      if (opts.tlsDir !== undefined && opts.insecure === true) {
        command.error("error: --tls-dir and --insecure exclude each other", { exitCode: EXIT.usage });
      }
      const config = configOrExit();
      const logger = loggerFor(config, `sonde-${name}`);
      const poller =
        opts.tenant === undefined || opts.partition === undefined
          ? undefined
          : {
              tenant: opts.tenant,
              partition: opts.partition,
              ...(opts.id === undefined ? {} : { id: opts.id }),
              ...(opts.capabilities === undefined ? {} : { capabilities: opts.capabilities }),
              ...(opts.tlsDir === undefined
                ? {}
                : { tls: await pollerClientTls(opts.tlsDir, opts.tenant, logger) }),
              ...(opts.insecure === true ? { insecure: true } : {}),
            };
      await runRoles(roles, config, logger, poller === undefined ? {} : { poller });
    });
  };

  roleCommand("start", ["core", "poller", "agent"], "run every role in one process (embedded defaults)");
  roleCommand("core", ["core"], "run the core role: APIs, scheduler, result processing (needs the database)");
  roleCommand("poller", ["poller"], "run a poller: takes dispatched work for its partition (needs NATS_URL)");
  const agent = root
    .command("agent")
    .description(
      "run an agent: executes checks inside a customer network (needs NATS_URL; with --listen, serves monitoring.AgentService over gRPC instead)",
    )
    .option(
      "--listen <host:port>",
      "serve monitoring.AgentService (gRPC) here; needs TLS files or --insecure",
    )
    .option("--agent-id <id>", "the agent's id in responses and the registry (default: SONDE_NODE_NAME)")
    .option("--tenant <slug>", "register for this tenant's pollers (with --partition; needs NATS_URL)", slug)
    .option("--partition <slug>", "the tenant partition it serves (with --tenant)", slug)
    .option("--advertise <host:port>", "where pollers dial it (default: the --listen address)")
    .option("--tls-dir <dir>", "the agent's mTLS material (from `sonde certs issue --component agent`)")
    .option("--tls-ca <file>", "PEM CA that client (poller) certificates must chain to")
    .option("--tls-cert <file>", "PEM server certificate")
    .option("--tls-key <file>", "PEM server private key")
    .option("--insecure", "serve plaintext gRPC without client authentication (a warning is logged)", false)
    .option("--concurrency <n>", "checks in flight at once", positiveInt)
    .option("--max-batch <n>", "checks a GetResults/StreamResults batch may hold", positiveInt);
  agent.action(async (opts: AgentCommandOptions) => {
    if (opts.listen === undefined) {
      if (opts.insecure || opts.tlsCa || opts.tlsCert || opts.tlsKey) {
        agent.error("error: --insecure and --tls-* only apply with --listen", { exitCode: EXIT.usage });
      }
      const config = configOrExit();
      await runRoles(["agent"], config, loggerFor(config, "sonde-agent"));
      return;
    }
    // The gRPC agent keeps no secret: never create one in its data directory.
    const config = configOrExit({ createSecret: false });
    if ((opts.tenant === undefined) !== (opts.partition === undefined)) {
      agent.error("error: --tenant and --partition go together", { exitCode: EXIT.usage });
    }
    const tlsGiven = opts.tlsDir !== undefined || opts.tlsCa !== undefined;
    if (opts.tlsDir !== undefined && (opts.tlsCa ?? opts.tlsCert ?? opts.tlsKey) !== undefined) {
      agent.error("error: --tls-dir replaces --tls-ca/--tls-cert/--tls-key", { exitCode: EXIT.usage });
    }
    if (opts.tenant !== undefined && opts.partition !== undefined) {
      // Registered for a tenant partition: the bus connection comes with it (startProcess).
      const logger = loggerFor(config, "sonde-agent");
      if (!tlsGiven && !opts.insecure) {
        agent.error("error: --listen needs --tls-dir (or the --tls-* files) or --insecure", {
          exitCode: EXIT.config,
        });
      }
      const tls =
        opts.tlsDir !== undefined ? await agentServerTls(opts.tlsDir, logger) : serverTlsFromFiles(opts);
      if (tls === undefined)
        logger.warn("agent: serving plaintext gRPC without client authentication (--insecure)");
      await runRoles(["agent"], config, logger, {
        agent: {
          listen: opts.listen,
          id: opts.agentId ?? componentIdFromNode(config.SONDE_NODE_NAME),
          tenant: opts.tenant,
          partition: opts.partition,
          ...(tls === undefined ? { insecure: true } : { tls }),
          ...(opts.advertise === undefined ? {} : { advertise: opts.advertise }),
          ...(opts.concurrency === undefined ? {} : { concurrency: opts.concurrency }),
          ...(opts.maxBatch === undefined ? {} : { maxBatchChecks: opts.maxBatch }),
        },
      });
      return;
    }
    if (opts.tlsDir !== undefined) {
      const logger = loggerFor(config, "sonde-agent");
      await runAgent(
        { ...opts, listen: opts.listen, agentId: opts.agentId ?? config.SONDE_NODE_NAME },
        logger,
        config.SONDE_SHUTDOWN_TIMEOUT_MS,
        await agentServerTls(opts.tlsDir, logger),
      );
      return;
    }
    await runAgent(
      { ...opts, listen: opts.listen, agentId: opts.agentId ?? config.SONDE_NODE_NAME },
      loggerFor(config, "sonde-agent"),
      config.SONDE_SHUTDOWN_TIMEOUT_MS,
    );
  });

  const migrate = root
    .command("migrate")
    .description("apply pending database migrations (see also: migrate status, migrate down)")
    .action(async () => {
      const config = configOrExit();
      process.exitCode = await runMigrate({ action: "up" }, config, loggerFor(config, "sonde-migrate"));
    });
  migrate
    .command("status")
    .description("list migrations and whether each is applied")
    .action(async () => {
      const config = configOrExit();
      process.exitCode = await runMigrate({ action: "status" }, config, loggerFor(config, "sonde-migrate"));
    });
  migrate
    .command("down")
    .description("revert the most recently applied migrations")
    .option("--steps <n>", "how many migrations to revert", positiveInt, 1)
    .action(async (opts: { steps: number }) => {
      const config = configOrExit();
      process.exitCode = await runMigrate(
        { action: "down", steps: opts.steps },
        config,
        loggerFor(config, "sonde-migrate"),
      );
    });

  const keys = root
    .command("keys")
    .description("encryption keys of encrypted attributes (see keys list, keys rotate)");
  keys
    .command("list")
    .description("list the data keys: id, active or retired, created, retired")
    .action(async () => {
      // Listing unwraps nothing: no secret needed, none generated.
      const config = configOrExit({ createSecret: false });
      process.exitCode = await runKeys({ action: "list" }, config, loggerFor(config, "sonde-keys"));
    });
  keys
    .command("rotate")
    .description("create a new active key, then re-encrypt every encrypted value under it")
    .option("--no-new-key", "only move values still under older keys (finishes an interrupted rotation)")
    .option("--batch-size <n>", "rows per transaction", positiveInt, 500)
    .action(async (opts: { newKey: boolean; batchSize: number }) => {
      // Never generate a secret here: a new one could not unwrap the existing keys.
      const config = configOrExit({ createSecret: false });
      process.exitCode = await runKeys(
        { action: "rotate", newKey: opts.newKey, batchSize: opts.batchSize },
        config,
        loggerFor(config, "sonde-keys"),
      );
    });

  registerIdentityCommands(root, configOrExit);
  // Fabric security: files only, no configuration, database or bus needed.
  registerCertsCommands(root);
  registerNatsConfigCommand(root);

  root
    .command("version")
    .description("print the version")
    .action(() => {
      process.stdout.write(`sonde ${SONDE_VERSION} (node ${process.version})\n`);
    });
  return root;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await program().parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander's exitOverride; their exit code is 0.
      process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
    }
    if (isSondeError(err)) {
      process.stderr.write(`sonde: ${err.code}: ${err.message}\n`);
      process.exit(err.code === "SONDE_CONFIG_INVALID" ? EXIT.config : EXIT.failure);
    }
    process.stderr.write(`sonde: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(EXIT.failure);
  }
}

await main(process.argv.slice(2));
