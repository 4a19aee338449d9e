import fc from 'fast-check';
import { fuzzRun } from '#testing';
import { MAX_JSON_DEPTH, jsonNestedDeeperThan } from './json-depth.js';

/** The scan as plainly as it can be written: one character at a time, a backslash skipping the next. */
function plainlyDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (++depth > maxDepth) return true;
    } else if (c === '}' || c === ']') depth--;
  }
  return false;
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const bytes = (text: string) => new TextEncoder().encode(text);

describe('jsonNestedDeeperThan', () => {
  it('accepts JSON at the limit and refuses one level more, as text and as bytes', () => {
    expect(jsonNestedDeeperThan(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonNestedDeeperThan(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonNestedDeeperThan(bytes(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(jsonNestedDeeperThan(bytes(nested(MAX_JSON_DEPTH + 1)))).toBe(true);
  });

  it('counts objects and arrays alike', () => {
    expect(jsonNestedDeeperThan('{"a":[{"b":[1]}]}', 3)).toBe(true);
    expect(jsonNestedDeeperThan('{"a":[{"b":[1]}]}', 4)).toBe(false);
  });

  it('measures depth, not the number of containers', () => {
    const wide = `[${Array.from({ length: 1000 }, () => '{"a":[1]}').join(',')}]`;
    expect(jsonNestedDeeperThan(wide, 3)).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonNestedDeeperThan(JSON.stringify({ text: '[[[[[[[[[[' }), 2)).toBe(false);
    expect(jsonNestedDeeperThan(JSON.stringify({ text: 'say \\"[[[[[[[[[["' }), 2)).toBe(false);
    expect(jsonNestedDeeperThan(bytes(JSON.stringify({ text: 'é "[[[[[[' })), 2)).toBe(false);
  });

  it('answers as a plain scan does, for text and for its UTF-8 bytes', () => {
    const piece = fc.constantFrom('{', '}', '[', ']', '"', '\\', '\\"', 'a', 'é', '😀', ':', ',');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 120 }), fc.integer({ min: 0, max: 8 }), (pieces, maxDepth) => {
        const text = pieces.join('');
        const expected = plainlyDeeperThan(text, maxDepth);
        expect(jsonNestedDeeperThan(text, maxDepth)).toBe(expected);
        expect(jsonNestedDeeperThan(bytes(text), maxDepth)).toBe(expected);
      }),
      fuzzRun(5_000),
    );
  });

  it('scans 10,000 levels without recursing', () => {
    expect(jsonNestedDeeperThan(nested(10_000))).toBe(true);
    expect(jsonNestedDeeperThan('{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000))).toBe(true);
  });
});
