import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CA_FILES,
  type CertComponent,
  type IssuedCert,
  issueCa,
  issueLeaf,
  LEAF_FILES,
  type LoadedCa,
  loadCa,
  type TlsMaterial,
  writeOutputFiles,
} from "../../src/platform/fabric/certs/index.js";

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sonde-${prefix}-`));
}

export interface TenantPki {
  readonly tenant: string;
  readonly caPem: IssuedCert;
  readonly ca: LoadedCa;
  /** Writes the CA to a fresh directory (ca.crt, ca.key) and returns it. */
  writeCaDir(): string;
  /** A component's certificate from this tenant's CA, with `ca` set to `trustCa` (default this CA). */
  leaf(
    component: CertComponent,
    id: string,
    opts?: { hosts?: string[]; days?: number; validFrom?: Date; tenantInUri?: string; trustCa?: string },
  ): Promise<TlsMaterial>;
}

/** A real CA for a tenant, made in memory with the production issuer. */
export async function tenantPki(tenant: string): Promise<TenantPki> {
  const caPem = await issueCa({ tenant, days: 30 });
  const ca = await loadCa(caPem, tenant);
  return {
    tenant,
    caPem,
    ca,
    writeCaDir() {
      const dir = tempDir(`ca-${tenant}`);
      writeOutputFiles(
        dir,
        [
          { name: CA_FILES.cert, content: caPem.certPem, secret: false },
          { name: CA_FILES.key, content: caPem.keyPem, secret: true },
        ],
        { force: false },
      );
      return dir;
    },
    async leaf(component, id, opts = {}) {
      // Naming another tenant in the URI needs a CA that claims to be that tenant's issuer only on paper:
      // the issuer refuses, so the test forges it by loading this CA under the other tenant's name check.
      const issuer =
        opts.tenantInUri === undefined || opts.tenantInUri === tenant
          ? ca
          : { ...ca, tenant: opts.tenantInUri };
      const leaf = await issueLeaf({
        ca: issuer,
        identity: { tenant: opts.tenantInUri ?? tenant, component, id },
        hosts: opts.hosts ?? ["localhost", "127.0.0.1"],
        days: opts.days ?? 7,
        ...(opts.validFrom === undefined ? {} : { validFrom: opts.validFrom }),
      });
      return { ca: opts.trustCa ?? caPem.certPem, cert: leaf.certPem, key: leaf.keyPem };
    },
  };
}

export function leafDir(material: TlsMaterial): string {
  const dir = tempDir("leaf");
  writeOutputFiles(
    dir,
    [
      { name: LEAF_FILES.ca, content: material.ca, secret: false },
      { name: LEAF_FILES.cert, content: material.cert, secret: false },
      { name: LEAF_FILES.key, content: material.key, secret: true },
    ],
    { force: false },
  );
  return dir;
}
