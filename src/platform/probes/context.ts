/**
 * What a probe gets besides its check: a way to learn that the check was aborted (its timeout, or
 * the agent stopping). An AbortSignal costs several microseconds to create and to listen on, which
 * is a tenth of a loopback TCP check, so the signal is made only when a probe asks for it; the TCP
 * probe uses the plain callback `onAbort` instead.
 */
export interface CheckContext {
  /** An AbortSignal for APIs that take one; created on first use. */
  readonly signal: AbortSignal;
  readonly aborted: boolean;
  /** Why the check was aborted ("timed out after 5000 ms"), once it was. */
  readonly reason: string | undefined;
  /** Sets the one callback run when the check is aborted (undefined clears it). */
  onAbort(callback: (() => void) | undefined): void;
}

/** The runner's side of a CheckContext. */
export class CheckAbort implements CheckContext {
  private controller: AbortController | undefined;
  private callback: (() => void) | undefined;
  private why: string | undefined;

  get aborted(): boolean {
    return this.why !== undefined;
  }

  get reason(): string | undefined {
    return this.why;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.why !== undefined) this.controller.abort(new DOMException(this.why, "TimeoutError"));
    }
    return this.controller.signal;
  }

  onAbort(callback: (() => void) | undefined): void {
    this.callback = callback;
  }

  abort(reason: string): void {
    if (this.why !== undefined) return;
    this.why = reason;
    const callback = this.callback;
    this.callback = undefined;
    callback?.();
    this.controller?.abort(new DOMException(reason, "TimeoutError"));
  }
}

/** A context that follows an existing signal (running a probe on its own, outside a runner). */
export function contextFor(signal: AbortSignal): CheckContext {
  const context = new CheckAbort();
  const reasonOf = () => {
    const reason: unknown = signal.reason;
    if (reason instanceof Error && reason.name === "TimeoutError") return "timed out";
    return reason instanceof Error ? reason.message : "aborted";
  };
  if (signal.aborted) context.abort(reasonOf());
  else signal.addEventListener("abort", () => context.abort(reasonOf()), { once: true });
  return context;
}
