/** One identity's lists as its pool's backend last gave them, each fresh for a while. */
export class ListCache {
  private readonly entries = new Map<string, { result: Record<string, unknown>; until: number }>();
  /** Bumped by every list change: an answer asked for before it is not cached. */
  generation = 0;

  constructor(private readonly now: () => number) {}

  get(key: string): { result: Record<string, unknown>; freshForMs: number } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const freshForMs = entry.until - this.now();
    if (freshForMs > 0) return { result: entry.result, freshForMs };
    this.entries.delete(key);
    return undefined;
  }

  put(key: string, result: Record<string, unknown>, ttlMs: number, generation: number | undefined): void {
    if (ttlMs > 0 && generation === this.generation) this.entries.set(key, { result, until: this.now() + ttlMs });
  }

  /** `notifications/tools/list_changed` and the like: that kind of list is asked again. */
  invalidate(notification: string): void {
    this.generation += 1;
    const kind = notification.replace(/^notifications\//, '').replace(/\/list_changed$/, '');
    for (const key of [...this.entries.keys()]) if (key.startsWith(`${kind}/`)) this.entries.delete(key);
  }
}
