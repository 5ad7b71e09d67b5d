import type { Logger } from "pino";

/**
 * Terminology:
 * - role: what a process does (core, poller, agent); `sonde start` runs all three in one process.
 * - component: something started by a role that must be stopped on shutdown (HTTP listener, job
 *   workers, bus connection, database pool). Components stop in the reverse order of their start, so
 *   that nothing is cut off from what it depends on while it drains.
 */
export interface Component {
  readonly name: string;
  stop(): Promise<void>;
}

export class Runtime {
  private readonly components: Component[] = [];
  private draining = false;
  private shutdownPromise: Promise<boolean> | undefined;

  constructor(private readonly logger: Logger) {}

  add(component: Component): void {
    this.components.push(component);
  }

  isDraining(): boolean {
    return this.draining;
  }

  /**
   * Stops every component, newest first, within `timeoutMs` in all. Resolves true when all stopped
   * cleanly in time. Calling it again returns the same shutdown.
   */
  shutdown(reason: string, timeoutMs: number): Promise<boolean> {
    this.shutdownPromise ??= this.runShutdown(reason, timeoutMs);
    return this.shutdownPromise;
  }

  private async runShutdown(reason: string, timeoutMs: number): Promise<boolean> {
    this.draining = true;
    this.logger.info({ reason, timeoutMs }, "shutting down");
    const deadline = Date.now() + timeoutMs;
    let clean = true;
    for (const component of this.components.toReversed()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.logger.error(
          { component: component.name },
          "shutdown deadline passed before this component stopped",
        );
        clean = false;
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        component.stop().then(
          () => "stopped" as const,
          (err: unknown) => {
            this.logger.error({ component: component.name, err }, "component failed to stop cleanly");
            return "failed" as const;
          },
        ),
        new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), remaining);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        this.logger.error(
          { component: component.name },
          "component did not stop within the shutdown timeout",
        );
      } else if (outcome === "stopped") {
        this.logger.debug({ component: component.name }, "stopped");
      }
      if (outcome !== "stopped") clean = false;
    }
    this.logger.info({ clean }, "shutdown complete");
    return clean;
  }
}

/**
 * SIGTERM/SIGINT start a graceful shutdown; the process exits 0 when it was clean and 1 otherwise. A
 * second signal while draining exits at once (130), for an operator who does not want to wait.
 */
export function exitOnSignals(runtime: Runtime, logger: Logger, timeoutMs: number): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      logger.warn({ signal }, "second signal: exiting without waiting");
      process.exit(130);
    }
    signalled = true;
    void runtime.shutdown(signal, timeoutMs).then((clean) => {
      process.exit(clean ? 0 : 1);
    });
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
