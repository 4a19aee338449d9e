import { DEFAULT_FRESHNESS_MS, ExpiringCache, freshnessMs, MAX_FRESHNESS_MS } from './metadata-cache.js';

const NOW = Date.parse('2026-01-10T12:00:00Z');

describe('freshnessMs', () => {
  it.each([
    ['max-age', { 'cache-control': 'max-age=600' }, 600_000],
    ['max-age among other directives', { 'cache-control': 'public, MAX-AGE=60, must-revalidate' }, 60_000],
    ['s-maxage over max-age', { 'cache-control': 'max-age=600, s-maxage=30' }, 30_000],
    ['a quoted value', { 'cache-control': 'max-age="90"' }, 90_000],
    ['max-age=0', { 'cache-control': 'max-age=0' }, 0],
    ['an invalid max-age, as stale', { 'cache-control': 'max-age=soon' }, 0],
    ['no-store', { 'cache-control': 'no-store, max-age=600' }, 0],
    ['no-cache', { 'cache-control': 'no-cache' }, 0],
    ['max-age less Age', { 'cache-control': 'max-age=600', age: '100' }, 500_000],
    ['max-age over Expires', { 'cache-control': 'max-age=60', expires: new Date(NOW + 3_600_000).toUTCString() }, 60_000],
    ['Expires against now', { expires: new Date(NOW + 120_000).toUTCString() }, 120_000],
    ['Expires against Date', { expires: new Date(NOW + 120_000).toUTCString(), date: new Date(NOW - 60_000).toUTCString() }, 180_000],
    ['Expires in the past', { expires: new Date(NOW - 1000).toUTCString() }, 0],
    ['an invalid Expires, as expired', { expires: '0' }, 0],
    ['no caching headers: the default', {}, DEFAULT_FRESHNESS_MS],
    ['a long max-age, clamped to a day', { 'cache-control': 'max-age=31536000' }, MAX_FRESHNESS_MS],
  ])('takes %s', (_case, headers, expected) => {
    expect(freshnessMs(headers, NOW)).toBe(expected);
  });
});

describe('ExpiringCache', () => {
  it('serves an entry until it expires', () => {
    const cache = new ExpiringCache<string>(10);
    cache.set('a', 'one', 1_000);
    expect(cache.get('a', 999)).toBe('one');
    expect(cache.get('a', 1_000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used entry when full', () => {
    const cache = new ExpiringCache<string>(2);
    cache.set('a', 'one', 10_000);
    cache.set('b', 'two', 10_000);
    expect(cache.get('a', 0)).toBe('one');
    cache.set('c', 'three', 10_000);
    expect(cache.size).toBe(2);
    expect(cache.get('b', 0)).toBeUndefined();
    expect(cache.get('a', 0)).toBe('one');
    expect(cache.get('c', 0)).toBe('three');
  });

  it('replaces an entry set again', () => {
    const cache = new ExpiringCache<string>(2);
    cache.set('a', 'one', 10);
    cache.set('a', 'uno', 20);
    expect(cache.get('a', 15)).toBe('uno');
    expect(cache.size).toBe(1);
  });
});
