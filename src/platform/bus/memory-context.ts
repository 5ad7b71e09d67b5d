import type { InFlight } from "./inflight.js";

/** What the parts of the in-process bus share: its running handlers and its lifecycle. */
export interface MemoryContext {
  readonly inflight: InFlight;
  /** Raises SONDE_BUS_CLOSED once close() has finished. */
  assertOpen(): void;
  /** Raises SONDE_BUS_CLOSED once close() has begun: no new subscriptions, consumers or watchers. */
  assertAccepting(): void;
  /** Handler delivery is never synchronous with the call that caused it, as over a network. */
  defer(fn: () => void): void;
}
