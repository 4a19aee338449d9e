import { constantTimeEqual, constantTimeIndexOf } from './compare.js';
import { randomId } from './random.js';

describe('crypto', () => {
  it('compares secrets of any length', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret-longer')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
  });

  it('finds a value among candidates', () => {
    expect(constantTimeIndexOf(['a', 'b', 'c'], 'b')).toBe(1);
    expect(constantTimeIndexOf(['a', 'b', 'c'], 'd')).toBe(-1);
    expect(constantTimeIndexOf([], 'a')).toBe(-1);
  });

  it('finds values again in the same list, and in another list, once its digests are kept', () => {
    const tokens = ['first-token', 'second-token'];
    expect(constantTimeIndexOf(tokens, 'second-token')).toBe(1);
    expect(constantTimeIndexOf(tokens, 'first-token')).toBe(0);
    expect(constantTimeIndexOf(tokens, 'second-token ')).toBe(-1);
    expect(constantTimeIndexOf(['second-token'], 'second-token')).toBe(0);
    expect(constantTimeIndexOf(['other'], 'first-token')).toBe(-1);
  });

  it('makes 128-bit base64url ids by default', () => {
    const id = randomId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomId()).not.toBe(id);
  });

  it('never hands out the same bytes twice, across refills of its pool and for sizes larger than the pool', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => randomId(12)));
    expect(ids.size).toBe(2000);
    expect(randomId(3)).toMatch(/^[A-Za-z0-9_-]{4}$/);
    const large = randomId(5000);
    expect(Buffer.from(large, 'base64url')).toHaveLength(5000);
    expect(randomId(5000)).not.toBe(large);
  });
});
