import { constantTimeEqual, indexOfSecret } from './compare.js';
import { randomId, randomKey } from './random.js';

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
});
