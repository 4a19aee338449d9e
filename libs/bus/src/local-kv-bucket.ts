import type { KvBucket } from './bus.port.js';
import { assertKey } from './bus-arguments.js';
import { BusClosedError } from './bus-errors.js';

interface Entry {
  value: Uint8Array;
  expiresAt: number;
  timer: NodeJS.Timeout;
}

/** Runs `fn` as a promise, so argument errors reject like they do over the network. */
export function settle<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

/** An in-memory bucket; each entry lives `ttlMs` after its last put. */
export class LocalKvBucket implements KvBucket {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly isOpen: () => boolean,
  ) {}

  get(key: string): Promise<Uint8Array | null> {
    return settle(() => {
      this.check(key);
      const entry = this.entries.get(key);
      // the timer may fire late; the deadline is what counts
      return entry && entry.expiresAt > Date.now() ? entry.value.slice() : null;
    });
  }

  put(key: string, value: Uint8Array): Promise<void> {
    return settle(() => {
      this.check(key);
      this.remove(key);
      const timer = setTimeout(() => this.entries.delete(key), this.ttlMs).unref();
      this.entries.set(key, { value: value.slice(), expiresAt: Date.now() + this.ttlMs, timer });
    });
  }

  delete(key: string): Promise<void> {
    return settle(() => {
      this.check(key);
      this.remove(key);
    });
  }

  /** Forgets every entry and its timer; called when the bus closes. */
  clear(): void {
    for (const key of [...this.entries.keys()]) this.remove(key);
  }

  private check(key: string): void {
    assertKey(key);
    if (!this.isOpen()) throw new BusClosedError();
  }

  private remove(key: string): void {
    clearTimeout(this.entries.get(key)?.timer);
    this.entries.delete(key);
  }
}
