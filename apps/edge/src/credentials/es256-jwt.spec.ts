import fc from 'fast-check';
import { fuzzRun } from '#testing';
import { decodeBase64Url } from './es256-jwt.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('decodeBase64Url', () => {
  it('gives the bytes Node’s base64url decoder gives, for every string of its alphabet', () => {
    const segment = fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 400 });
    // Encoded bytes too: every length, a last lone character, and non-zero bits a canonical encoder leaves out.
    const encoded = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64url'));
    fc.assert(
      fc.property(fc.oneof(segment, encoded), (text) => {
        expect(decodeBase64Url(text).equals(Buffer.from(text, 'base64url'))).toBe(true);
      }),
      fuzzRun(5_000),
    );
  });

  it('decodes a signature and claims as they are signed', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (let length = 0; length <= bytes.length; length++) {
      const part = bytes.subarray(0, length);
      expect(decodeBase64Url(part.toString('base64url'))).toEqual(part);
    }
    expect(decodeBase64Url('eyJhbGciOiJFUzI1NiJ9').toString()).toBe('{"alg":"ES256"}');
  });
});
