import { type Command, Option } from "commander";
import {
  CA_FILES,
  CERT_COMPONENTS,
  type CertComponent,
  caCommonName,
  issueCa,
  issueLeaf,
  LEAF_FILES,
  loadCaDir,
  loadTlsMaterial,
  writeOutputFiles,
} from "../platform/fabric/certs/index.js";
import { positiveInt } from "./options.js";

/** Hosts a serving component gets when none are given: it answers on loopback by name and address. */
const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "::1"];

export interface CaCommand {
  readonly tenant: string;
  readonly out: string;
  readonly days: number;
  readonly force: boolean;
}

/** `sonde certs ca`: a tenant's CA in `out` (ca.crt, ca.key 0600). Returns the lines to print. */
export async function runCertsCa(o: CaCommand): Promise<string[]> {
  const ca = await issueCa({ tenant: o.tenant, days: o.days });
  const [cert, key] = writeOutputFiles(
    o.out,
    [
      { name: CA_FILES.cert, content: ca.certPem, secret: false },
      { name: CA_FILES.key, content: ca.keyPem, secret: true },
    ],
    { force: o.force },
  );
  return [
    `wrote ${cert} and ${key} (0600)`,
    `"${caCommonName(o.tenant)}" valid until ${ca.notAfter.toISOString()}`,
  ];
}

export interface IssueCommand {
  readonly tenant: string;
  readonly component: CertComponent;
  readonly id: string;
  readonly caDir: string;
  readonly out: string;
  readonly hosts: readonly string[];
  readonly days: number;
  readonly force: boolean;
}

/** Pollers only call out; agents and core serve, so they get loopback names unless hosts are given. */
function defaultHosts(component: CertComponent): string[] {
  return component === "poller" ? [] : LOOPBACK_HOSTS;
}

/** `sonde certs issue`: a component's ca.crt, tls.crt and tls.key (0600) in `out`. */
export async function runCertsIssue(o: IssueCommand): Promise<string[]> {
  const ca = await loadCaDir(o.caDir, o.tenant);
  const hosts = o.hosts.length > 0 ? o.hosts : defaultHosts(o.component);
  const leaf = await issueLeaf({
    ca,
    identity: { tenant: o.tenant, component: o.component, id: o.id },
    hosts,
    days: o.days,
  });
  const written = writeOutputFiles(
    o.out,
    [
      { name: LEAF_FILES.ca, content: ca.cert.toString("pem") + "\n", secret: false },
      { name: LEAF_FILES.cert, content: leaf.certPem, secret: false },
      { name: LEAF_FILES.key, content: leaf.keyPem, secret: true },
    ],
    { force: o.force },
  );
  return [
    `wrote ${written.join(", ")} (${LEAF_FILES.key} 0600)`,
    `${leaf.spiffeId}${hosts.length > 0 ? ` for ${hosts.join(", ")}` : ""}, valid until ${leaf.notAfter.toISOString()}`,
  ];
}

/** `sonde certs show`: who a component directory's certificate says it is (after checking the pieces fit). */
export async function runCertsShow(dir: string): Promise<string[]> {
  const m = await loadTlsMaterial(dir);
  const { tenant, component, id } = m.identity;
  return [`tenant ${tenant}, ${component} ${id}, valid until ${m.notAfter.toISOString()}`];
}

function print(lines: readonly string[]): void {
  for (const line of lines) process.stdout.write(`${line}\n`);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerCertsCommands(root: Command): void {
  const certs = root
    .command("certs")
    .description(
      "mTLS certificates of the polling fabric: a CA per tenant, SPIFFE certificates per component",
    );
  certs
    .command("ca")
    .description("create a tenant's CA (ca.crt, ca.key) in a directory")
    .requiredOption("--tenant <slug>", "the tenant the CA issues for")
    .requiredOption("--out <dir>", "directory to write ca.crt and ca.key into")
    .option("--days <n>", "validity in days", positiveInt, 1825)
    .option("--force", "replace existing files")
    .action(async (o: { tenant: string; out: string; days: number; force?: boolean }) => {
      print(await runCertsCa({ ...o, force: o.force === true }));
    });
  certs
    .command("issue")
    .description("issue a component's certificate from its tenant's CA (ca.crt, tls.crt, tls.key)")
    .requiredOption("--tenant <slug>", "the component's tenant")
    .addOption(new Option("--component <kind>", "what it is").choices(CERT_COMPONENTS).makeOptionMandatory())
    .requiredOption("--id <id>", "its id (letters, digits, '_' and '-')")
    .requiredOption("--ca-dir <dir>", "the tenant's CA directory (from `sonde certs ca`)")
    .requiredOption("--out <dir>", "directory to write ca.crt, tls.crt and tls.key into")
    .option(
      "--host <name-or-ip>",
      "a DNS name or IP address it serves on (repeatable; default for agent and core: localhost, 127.0.0.1, ::1)",
      collect,
      [],
    )
    .option("--days <n>", "validity in days", positiveInt, 90)
    .option("--force", "replace existing files")
    .action(
      async (o: {
        tenant: string;
        component: CertComponent;
        id: string;
        caDir: string;
        out: string;
        host: string[];
        days: number;
        force?: boolean;
      }) => {
        print(await runCertsIssue({ ...o, hosts: o.host, force: o.force === true }));
      },
    );
  certs
    .command("show")
    .description("check a component directory (ca.crt, tls.crt, tls.key) and print its identity")
    .requiredOption("--dir <dir>", "the directory")
    .action(async (o: { dir: string }) => {
      print(await runCertsShow(o.dir));
    });
}
