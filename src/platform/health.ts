/**
 * A dependency that /readyz asks. `check` throws (or times out) when the dependency is not usable;
 * the error's message is not shown to callers, only logged, because it may name internal hosts.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, "ok" | "failed" | "timeout">>;
}

export async function runReadiness(
  checks: readonly ReadinessCheck[],
  timeoutMs: number,
  onFailure?: (name: string, err: unknown) => void,
): Promise<ReadinessReport> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, "ok" | "failed" | "timeout"]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      try {
        const outcome = await Promise.race([c.check().then(() => "ok" as const), timeout]);
        if (outcome === "timeout") onFailure?.(c.name, new Error(`no answer within ${timeoutMs} ms`));
        return [c.name, outcome];
      } catch (err) {
        onFailure?.(c.name, err);
        return [c.name, "failed"];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, r]) => r === "ok"), checks: Object.fromEntries(results) };
}
