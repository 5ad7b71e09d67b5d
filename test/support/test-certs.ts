import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throw-away CA with a server certificate (127.0.0.1, localhost) and client certificates. */
export interface TestPki {
  readonly ca: string;
  readonly server: { readonly cert: string; readonly key: string };
  /** A client certificate per requested common name, each with a SPIFFE URI SAN naming it. */
  readonly clients: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
  /** A second, unrelated CA's client: its chain does not verify against `ca`. */
  readonly stranger: { readonly cert: string; readonly key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
  ]);
}

function issue(dir: string, ca: string, name: string, ext: string): { cert: string; key: string } {
  openssl(dir, [
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  ]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.crt`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.crt`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  ]);
  return {
    cert: readFileSync(join(dir, `${name}.crt`), "utf8"),
    key: readFileSync(join(dir, `${name}.key`), "utf8"),
  };
}

export function makeTestPki(clientNames: readonly string[]): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "sonde-pki-"));
  try {
    makeCa(dir, "ca");
    makeCa(dir, "other-ca");
    const server = issue(
      dir,
      "ca",
      "server",
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    );
    const clients: Record<string, { cert: string; key: string }> = {};
    for (const name of clientNames) {
      clients[name] = issue(
        dir,
        "ca",
        name,
        `subjectAltName=URI:spiffe://sonde/tenant/${name}\nextendedKeyUsage=clientAuth\n`,
      );
    }
    const stranger = issue(dir, "other-ca", "stranger", "extendedKeyUsage=clientAuth\n");
    return { ca: readFileSync(join(dir, "ca.crt"), "utf8"), server, clients, stranger };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
