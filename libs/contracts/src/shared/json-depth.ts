/** Deeper JSON than this is refused before anything recurses into it (JSON.stringify, schemas). */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether JSON text nests objects and arrays deeper than `maxDepth`, found by one scan that
 * never recurses. Works on UTF-8 bytes or a string: the characters it counts are ASCII, and in
 * UTF-8 no byte of a multi-byte character can be taken for one. Malformed text is scanned the
 * same way; the parser that runs next refuses it.
 */
export function jsonNestedDeeperThan(text: string | Uint8Array, maxDepth: number = MAX_JSON_DEPTH): boolean {
  // Text this short cannot hold more than maxDepth openings.
  if (text.length <= maxDepth) return false;
  return typeof text === 'string'
    ? deeperThan(text.length, (i) => text.charCodeAt(i), maxDepth)
    : deeperThan(text.length, (i) => text[i] ?? 0, maxDepth);
}

function deeperThan(length: number, at: (i: number) => number, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}
