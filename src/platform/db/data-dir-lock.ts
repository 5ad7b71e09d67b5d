import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SondeError } from "../../lib/errors.js";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return err instanceof Error && "code" in err && err.code === "EPERM";
  }
}

/**
 * PGlite has no multi-process locking: two processes opening the same files would corrupt them. The
 * lock file records the owner's pid; a stale lock (owner gone) is taken over. Returns the release.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  const path = join(dataDir, "db.lock");
  for (let i = 0; i < 2; i++) {
    try {
      writeFileSync(path, String(process.pid), { flag: "wx", mode: 0o600 });
      let released = false;
      return () => {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
      };
    } catch (err) {
      if (!(err instanceof Error && "code" in err && err.code === "EEXIST")) throw err;
      const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
        throw new SondeError(
          "SONDE_CONFIG_INVALID",
          `SONDE_DATA_DIR ${dataDir} is in use by another Sonde process (pid ${owner})`,
        );
      }
      rmSync(path, { force: true });
    }
  }
  throw new SondeError("SONDE_CONFIG_INVALID", `SONDE_DATA_DIR ${dataDir}: cannot take the database lock`);
}
