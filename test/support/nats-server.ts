import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const NATS_SERVER_BIN = process.env.NATS_SERVER_BIN ?? "/usr/sbin/nats-server";

export interface NatsServerProcess {
  readonly port: number;
  readonly url: string;
  /** Everything the server wrote (its log), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** A free TCP port on loopback (the server binds it a moment later; collisions fail loudly). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts a real nats-server with JetStream on a loopback port (see freePort), configured by `main.conf` in
 * `dir` (which may `include` other files there). Fails, never skips, when the binary is missing.
 */
export async function startNatsServer(
  dir: string,
  extraConfig: string,
  port: number,
): Promise<NatsServerProcess> {
  if (!existsSync(NATS_SERVER_BIN)) {
    throw new Error(
      `nats-server is required for this suite and was not found at ${NATS_SERVER_BIN} ` +
        "(apt-get install nats-server, or set NATS_SERVER_BIN)",
    );
  }
  const config = join(dir, "main.conf");
  writeFileSync(
    config,
    [
      `listen: "127.0.0.1:${port}"`,
      `jetstream { store_dir: ${JSON.stringify(join(dir, "jetstream"))} }`,
      extraConfig,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(NATS_SERVER_BIN, ["-c", config], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout?.setEncoding("utf8").on("data", (c: string) => (log += c));
  child.stderr?.setEncoding("utf8").on("data", (c: string) => (log += c));
  const exited = once(child, "exit");

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`nats-server did not get ready in 10 s:\n${log}`)),
      10_000,
    );
    const check = () => {
      if (log.includes("Server is ready")) finish();
    };
    const finish = (err?: Error) => {
      clearTimeout(timer);
      child.stdout?.off("data", check);
      child.stderr?.off("data", check);
      child.off("exit", onExit);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onExit = (code: number | null) =>
      finish(new Error(`nats-server exited (${code}) at start:\n${log}`));
    child.stdout?.on("data", check);
    child.stderr?.on("data", check);
    child.on("exit", onExit);
    check();
  });

  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
