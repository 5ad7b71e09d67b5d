import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SondeError } from "../../../lib/errors.js";

/**
 * Where certificates live on disk. A CA directory holds `ca.crt` and `ca.key`; a component's directory
 * holds `ca.crt` (its tenant's CA, to verify peers), `tls.crt` and `tls.key` — the names Kubernetes
 * TLS secrets use, so a mounted secret is a valid directory as it is.
 */
export const CA_FILES = { cert: "ca.crt", key: "ca.key" } as const;
export const LEAF_FILES = { ca: "ca.crt", cert: "tls.crt", key: "tls.key" } as const;

export interface OutputFile {
  readonly name: string;
  readonly content: string;
  /** Private keys and passwords: written 0600; everything else 0644. */
  readonly secret: boolean;
}

/**
 * Writes every file or none: existing files are refused up front unless `force`, so a refused run
 * leaves the directory as it was. Each file is written beside its target with its final mode, then
 * renamed over it, so no reader sees a partial key nor a key with wider permissions.
 */
export function writeOutputFiles(
  dir: string,
  files: readonly OutputFile[],
  opts: { force: boolean },
): string[] {
  const paths = files.map((f) => join(dir, f.name));
  if (!opts.force) {
    const existing = paths.filter((p) => existsSync(p));
    if (existing.length > 0) {
      throw new SondeError(
        "SONDE_FILE_EXISTS",
        `refusing to overwrite ${existing.join(", ")} (use --force to replace)`,
        { meta: { files: existing } },
      );
    }
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  files.forEach((f, i) => {
    const target = paths[i] ?? join(dir, f.name);
    const mode = f.secret ? 0o600 : 0o644;
    const temp = `${target}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, f.content, { mode, flag: "wx" });
      chmodSync(temp, mode); // the umask may have narrowed it; make it exact
      renameSync(temp, target);
    } catch (err) {
      rmSync(temp, { force: true });
      throw new SondeError("SONDE_INTERNAL", `cannot write ${target}`, {
        meta: { file: target },
        cause: err,
      });
    }
  });
  return paths;
}

/** Reads one file of TLS material; a missing or unreadable file names itself, never its content. */
export function readMaterial(dir: string, name: string): string {
  const path = join(dir, name);
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    const missing = err instanceof Error && "code" in err && err.code === "ENOENT";
    throw new SondeError(
      "SONDE_TLS_MATERIAL_INVALID",
      missing ? `${path} not found` : `cannot read ${path}`,
      { meta: { file: path }, cause: err },
    );
  }
}
