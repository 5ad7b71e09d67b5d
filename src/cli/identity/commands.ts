import { type Command, Option } from "commander";
import { ROLES, type Role, SCOPES, type Scope } from "../../kernel/actor.js";
import type { Config } from "../../platform/config/index.js";
import { positiveInt } from "../options.js";
import { CliRefusal, cliLogger, type IdentityContext, withIdentity } from "./context.js";
import { type CommandResult, printResult } from "./output.js";
import { createTenant, listTenants, transitionTenant } from "./tenant.js";
import { createToken, listTokens, revokeToken } from "./token.js";
import { createMember, listMembers, removeMember, setRole } from "./user.js";

type LoadConfig = (options?: { createSecret?: boolean }) => Config;

const JSON_HELP = "print one JSON document on stdout instead of text";

/**
 * Runs one identity command and returns its exit code. Configuration is loaded without generating
 * a secret: a new one could not unwrap the keys that protect the tenants' encrypted attributes.
 * SondeErrors propagate to main, which prints `sonde: CODE: message` and exits 1 (78 for
 * configuration, including a data dir another Sonde process holds).
 */
async function run(
  loadConfig: LoadConfig,
  name: string,
  json: boolean,
  fn: (ctx: IdentityContext) => Promise<CommandResult>,
): Promise<number> {
  const config = loadConfig({ createSecret: false });
  const logger = cliLogger(config, `sonde-${name}`);
  let result: CommandResult;
  try {
    result = await withIdentity(config, logger, fn);
  } catch (err) {
    if (!(err instanceof CliRefusal)) throw err;
    process.stderr.write(`sonde: ${err.message}\n`);
    return 1;
  }
  printResult(result, json);
  return 0;
}

const roleOption = () =>
  new Option("--role <role>", "the role in the tenant").choices(ROLES).makeOptionMandatory();

interface Json {
  readonly json?: boolean;
}

function tenantCommands(root: Command, load: LoadConfig): void {
  const tenant = root
    .command("tenant")
    .description("tenants: create, list, suspend, resume (as the system actor `cli`)");
  tenant
    .command("create")
    .description("create a tenant")
    .requiredOption("--slug <slug>", "lower-case letters, digits and inner hyphens; names bus subjects")
    .requiredOption("--name <name>", "display name")
    .option("--max-users <n>", "most members the tenant may have (default: no limit)", positiveInt)
    .option("--max-devices <n>", "most devices the tenant may have (default: no limit)", positiveInt)
    .option("--contact-name <name>", "contact person (stored encrypted)")
    .option("--contact-email <email>", "contact address (stored encrypted)")
    .option("--json", JSON_HELP)
    .action(
      async (
        o: Json & {
          slug: string;
          name: string;
          maxUsers?: number;
          maxDevices?: number;
          contactName?: string;
          contactEmail?: string;
        },
      ) => {
        process.exitCode = await run(load, "tenant", o.json === true, (ctx) => createTenant(ctx, o));
      },
    );
  tenant
    .command("list")
    .description("list every tenant")
    .option("--json", JSON_HELP)
    .action(async (o: Json) => {
      process.exitCode = await run(load, "tenant", o.json === true, listTenants);
    });
  for (const action of ["suspend", "resume"] as const) {
    tenant
      .command(action)
      .description(
        action === "suspend"
          ? "suspend a tenant: its members can no longer sign in or call the API"
          : "resume a suspended tenant",
      )
      .argument("<slug>", "the tenant")
      .option("--json", JSON_HELP)
      .action(async (slug: string, o: Json) => {
        process.exitCode = await run(load, "tenant", o.json === true, (ctx) =>
          transitionTenant(ctx, slug, action),
        );
      });
  }
}

function userCommands(root: Command, load: LoadConfig): void {
  const user = root
    .command("user")
    .description("tenant members: create, list, set-role, remove (as the system actor `cli`)");
  user
    .command("create")
    .description(
      "add a member to a tenant, creating the user when no user has the address (marked verified: " +
        "you vouch for it). Without a password they sign in by magic link or a password reset.",
    )
    .requiredOption("--tenant <slug>", "the tenant")
    .requiredOption("--email <email>", "the user's address")
    .addOption(roleOption())
    .addOption(
      new Option(
        "--password <password>",
        "password of a new user (12 to 256 characters); better read from the environment",
      ).env("SONDE_USER_PASSWORD"),
    )
    .option("--name <name>", "name of a new user (default: the part of the address before @)")
    .option("--json", JSON_HELP)
    .addHelpText(
      "after",
      "\nSONDE_USER_PASSWORD in the environment sets the password without it appearing in shell history.",
    )
    .action(
      async (o: Json & { tenant: string; email: string; role: Role; password?: string; name?: string }) => {
        process.exitCode = await run(load, "user", o.json === true, (ctx) => createMember(ctx, o));
      },
    );
  user
    .command("list")
    .description("list a tenant's members: email, name, role, status, member since")
    .requiredOption("--tenant <slug>", "the tenant")
    .option("--json", JSON_HELP)
    .action(async (o: Json & { tenant: string }) => {
      process.exitCode = await run(load, "user", o.json === true, (ctx) => listMembers(ctx, o.tenant));
    });
  user
    .command("set-role")
    .description("change a member's role in a tenant")
    .requiredOption("--tenant <slug>", "the tenant")
    .requiredOption("--email <email>", "the member's address")
    .addOption(roleOption())
    .option("--json", JSON_HELP)
    .action(async (o: Json & { tenant: string; email: string; role: Role }) => {
      process.exitCode = await run(load, "user", o.json === true, (ctx) => setRole(ctx, o));
    });
  user
    .command("remove")
    .description("remove a member from a tenant (the membership, not the user account)")
    .requiredOption("--tenant <slug>", "the tenant")
    .requiredOption("--email <email>", "the member's address")
    .option("--json", JSON_HELP)
    .action(async (o: Json & { tenant: string; email: string }) => {
      process.exitCode = await run(load, "user", o.json === true, (ctx) => removeMember(ctx, o));
    });
}

function tokenCommands(root: Command, load: LoadConfig): void {
  const token = root
    .command("token")
    .description("API tokens: create, list, revoke (as the system actor `cli`)");
  token
    .command("create")
    .description(
      "create an API token acting as a member in a tenant; prints the token once (stdout, first line)",
    )
    .requiredOption("--tenant <slug>", "the tenant")
    .requiredOption("--user <email>", "the member the token acts as")
    .addOption(
      new Option("--scope <scope>", "read: safe methods; write: plus changes; admin: plus users and tokens")
        .choices(SCOPES)
        .makeOptionMandatory(),
    )
    .requiredOption("--name <name>", "what the token is for")
    .option("--expires-in-days <n>", "lifetime in days, at most 366 (default: no expiry)", positiveInt)
    .option("--json", JSON_HELP)
    .action(
      async (
        o: Json & { tenant: string; user: string; scope: Scope; name: string; expiresInDays?: number },
      ) => {
        process.exitCode = await run(load, "token", o.json === true, (ctx) => createToken(ctx, o));
      },
    );
  token
    .command("list")
    .description("list a tenant's tokens (never the tokens themselves)")
    .requiredOption("--tenant <slug>", "the tenant")
    .option("--user <email>", "only this member's tokens")
    .option("--json", JSON_HELP)
    .action(async (o: Json & { tenant: string; user?: string }) => {
      process.exitCode = await run(load, "token", o.json === true, (ctx) => listTokens(ctx, o));
    });
  token
    .command("revoke")
    .description("revoke a token at once (it stays listed with its revoked time)")
    .requiredOption("--tenant <slug>", "the tenant")
    .argument("<token-id>", "the token's id, from `sonde token list`")
    .option("--json", JSON_HELP)
    .action(async (id: string, o: Json & { tenant: string }) => {
      process.exitCode = await run(load, "token", o.json === true, (ctx) =>
        revokeToken(ctx, { tenant: o.tenant, id }),
      );
    });
}

/** `sonde tenant | user | token …`: identity administration from the command line. */
export function registerIdentityCommands(root: Command, loadConfig: LoadConfig): void {
  tenantCommands(root, loadConfig);
  userCommands(root, loadConfig);
  tokenCommands(root, loadConfig);
}
