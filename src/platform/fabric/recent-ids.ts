/**
 * Work ids seen within a window, so that a redelivered dispatch of the same id runs once. Bounded in
 * both time and size: when full, the oldest id is forgotten first (insertion order of the Map).
 */
export class RecentIds {
  readonly #seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly maxIds: number,
  ) {}

  has(id: string, now = Date.now()): boolean {
    const at = this.#seen.get(id);
    if (at === undefined) return false;
    if (now - at > this.windowMs) {
      this.#seen.delete(id);
      return false;
    }
    return true;
  }

  add(id: string, now = Date.now()): void {
    this.#seen.delete(id);
    this.#seen.set(id, now);
    for (const [oldest, at] of this.#seen) {
      if (this.#seen.size <= this.maxIds && now - at <= this.windowMs) break;
      this.#seen.delete(oldest);
    }
  }

  get size(): number {
    return this.#seen.size;
  }
}
