import type { IncomingHttpHeaders } from 'node:http';

/** Used when the response says nothing about caching. */
export const DEFAULT_FRESHNESS_MS = 5 * 60_000;
/** However long a response asks to be kept, it is fetched again after a day. */
export const MAX_FRESHNESS_MS = 24 * 3_600_000;

/**
 * How long a response may be reused, from its headers (RFC 9111 §4.2.1, simplified): `no-store` or
 * `no-cache` → 0; else `s-maxage`, `max-age` (we are a cache shared by every request), `Expires`
 * against `Date`, less `Age`; else the default; clamped to [0, 24 h]. An invalid value means stale.
 */
export function freshnessMs(headers: IncomingHttpHeaders, now: number): number {
  const directives = cacheDirectives(headers['cache-control']);
  if (directives.has('no-store') || directives.has('no-cache')) return 0;
  const maxAge = directives.get('s-maxage') ?? directives.get('max-age');
  const lifetime = maxAge !== undefined ? seconds(maxAge) * 1000 : expiresLifetime(headers, now);
  const age = headers.age === undefined ? 0 : seconds(headers.age) * 1000;
  return Math.min(Math.max((lifetime ?? DEFAULT_FRESHNESS_MS) - age, 0), MAX_FRESHNESS_MS);
}

function cacheDirectives(header: string | undefined): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (header ?? '').split(',')) {
    const [name = '', value = ''] = part.split('=', 2).map((side) => side.trim());
    if (name !== '') directives.set(name.toLowerCase(), value.replace(/^"(.*)"$/, '$1'));
  }
  return directives;
}

/** Whole seconds; anything else is taken as 0, so the response counts as stale. */
function seconds(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : 0;
}

function expiresLifetime(headers: IncomingHttpHeaders, now: number): number | undefined {
  if (headers.expires === undefined) return undefined;
  const expires = Date.parse(headers.expires);
  if (Number.isNaN(expires)) return 0;
  const date = headers.date === undefined ? NaN : Date.parse(headers.date);
  return expires - (Number.isNaN(date) ? now : date);
}

/** A map of entries that expire, holding at most `maxEntries`: the least recently used go first. */
export class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    // Re-inserting moves it to the end of the Map's order: the most recently used.
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
  }
}
