/** Deeper JSON than this is refused before anything recurses into it (JSON.stringify, schemas). */
export const MAX_JSON_DEPTH = 64;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const OPENINGS = ['{', '['] as const;
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
  // Bytes as one character each (latin1 is a copy, not a decoding): the ASCII ones keep their codes.
  const chars = typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('latin1');
  return hasMoreOpenings(chars, maxDepth) && deeperThan(chars, maxDepth);
}

/**
 * Whether the text holds more than `count` braces and brackets that open, inside strings or not:
 * nesting cannot be deeper than that. Counted with indexOf, which finds the few a message has many
 * times faster than the scan below can step through its characters.
 */
function hasMoreOpenings(text: string, count: number): boolean {
  let left = count;
  for (const opening of OPENINGS) {
    for (let at = text.indexOf(opening); at >= 0; at = text.indexOf(opening, at + 1)) if (--left < 0) return true;
  }
  return false;
}

function deeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i);
      if (i < 0) return false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/**
 * Where the string opened at `open` ends (its closing quote), or -1 when it does not: found with
 * indexOf, which skips a string's text many times faster than a loop over its characters. A quote
 * after an odd number of backslashes is part of the text.
 */
function closingQuote(text: string, open: number): number {
  for (let quote = text.indexOf('"', open + 1); quote >= 0; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}
