import type { DeviceUpdateInput } from "../inventory/dire/update.js";

/** One page of a source, mapped: what the sync runner hands to DeviceIngest and counts. */
export interface DevicePage {
  /** DeviceUpdate-shaped objects (dire/update.ts), validated again by the ingest. */
  readonly updates: readonly DeviceUpdateInput[];
  /** Records on the page that could not become an update (no identifier, unreadable). */
  readonly skipped: number;
  /** Records on the page: updates + skipped. */
  readonly records: number;
  /** How many records the source says it holds in all, when it says. */
  readonly total: number | null;
}

/** A source's devices, page by page; stops (throws) on the first request that fails for good. */
export interface DeviceReader {
  pages(signal?: AbortSignal): AsyncGenerator<DevicePage>;
}
