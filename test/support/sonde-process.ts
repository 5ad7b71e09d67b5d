import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const BIN = resolve("bin/sonde.js");

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface SondeProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[];
  /** Everything written to stdout, as written (lines are also parsed into `logs`). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the first log line matching, or rejects after timeoutMs or when the process exits. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited(timeoutMs?: number): Promise<number | string>;
  /** Kills the process if it is still running (test teardown). */
  kill(): void;
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), "sonde-e2e-"));
}

/** Runs `sonde <args>` as a child process with JSON logs, an isolated data dir and a free port. */
export function spawnSonde(args: readonly string[], env: NodeJS.ProcessEnv = {}): SondeProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_FORMAT: "json",
      LOG_LEVEL: "info",
      PORT: "0",
      SONDE_DATA_DIR: tempDataDir(),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let errText = "";
  let outText = "";
  let exitValue: number | string | undefined;
  let buffered = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    outText += chunk;
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 30, msg: line });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    errText += chunk;
  });
  child.on("exit", (code, signal) => {
    exitValue = code ?? signal ?? "unknown";
    for (const w of waiters) w();
  });

  const until = <T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolveP, reject) => {
      const check = () => {
        const found = probe();
        if (found !== undefined) {
          cleanup();
          resolveP(found);
        } else if (exitValue !== undefined && what !== "exit") {
          cleanup();
          reject(new Error(`sonde exited (${exitValue}) before ${what}; stderr: ${errText.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${errText.slice(-2000)}`),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    logs,
    stdout: () => outText,
    stderr: () => errText,
    waitForLog: (match, timeoutMs = 30_000) =>
      until(() => logs.find(match), timeoutMs, "the expected log line"),
    exited: (timeoutMs = 30_000) => until(() => exitValue, timeoutMs, "exit"),
    kill() {
      if (exitValue === undefined) child.kill("SIGKILL");
    },
  };
}

/** Waits for the "listening" log line and returns the base URL. */
export async function listeningUrl(p: SondeProcess, timeoutMs = 40_000): Promise<string> {
  const line = await p.waitForLog((l) => l.msg === "sonde is listening", timeoutMs);
  if (typeof line.url !== "string") throw new Error("listening line has no url");
  return line.url;
}
