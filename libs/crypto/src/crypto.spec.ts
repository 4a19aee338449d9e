import { constantTimeEqual, indexOfSecret } from './compare.js';
import { randomId, randomKey, timeOrderedKey } from './random.js';

describe('crypto', () => {
  it('compares secrets of any length', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret-longer')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('finds a value among candidates', () => {
    expect(indexOfSecret(['a', 'b', 'c'], 'b')).toBe(1);
    expect(indexOfSecret(['a', 'b', 'c'], 'd')).toBe(-1);
    expect(indexOfSecret([], 'a')).toBe(-1);
  });

  it('finds values again in the same list, and in another list, once its digests are kept', () => {
    const tokens = ['first-token', 'second-token'];
    expect(indexOfSecret(tokens, 'second-token')).toBe(1);
    expect(indexOfSecret(tokens, 'first-token')).toBe(0);
    expect(indexOfSecret(tokens, 'second-token ')).toBe(-1);
    expect(indexOfSecret(['second-token'], 'second-token')).toBe(0);
    expect(indexOfSecret(['other'], 'first-token')).toBe(-1);
  });

  it('names the first place of a secret listed twice', () => {
    expect(indexOfSecret(['a', 'b', 'a'], 'a')).toBe(0);
  });

  it('makes 128-bit base64url ids by default', () => {
    const id = randomId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomId()).not.toBe(id);
  });

  it('cuts keys from a pool without handing out the same bytes twice, across refills and past the pool', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => randomKey(12)));
    expect(keys.size).toBe(2000);
    expect(randomKey(3)).toMatch(/^[A-Za-z0-9_-]{4}$/);
    const large = randomKey(5000);
    expect(Buffer.from(large, 'base64url')).toHaveLength(5000);
    expect(randomKey(5000)).not.toBe(large);
  });

  it('makes keys that sort by their time, and differ within one millisecond', () => {
    const times = [0, 1, 15, 16, 255, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 2 ** 47];
    const keys = times.map((t) => timeOrderedKey(t));
    expect([...keys].sort()).toEqual(keys);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{12}[A-Za-z0-9_-]{16}$/);
    expect(new Set(Array.from({ length: 1000 }, () => timeOrderedKey(5))).size).toBe(1000);
  });

  it('writes the milliseconds of a key as 12 hex digits, across its halves', () => {
    const times = [0, 0.9, 0xffffff, 0x1000000, 0x1000001, 1_765_142_400_123.7, 2 ** 48 - 1, Date.now()];
    for (const t of times) expect(timeOrderedKey(t).slice(0, 12)).toBe(Math.floor(t).toString(16).padStart(12, '0'));
  });
});
