import { randomBytes, randomFillSync } from 'node:crypto';

/**
 * A random identifier of `bytes` bytes (default 16 = 128 bits), base64url without padding, made
 * when it is asked for: for secrets (codes, tokens, session ids), whose bytes are never held
 * anywhere before they are issued.
 */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Bytes for `randomKey`, drawn from the CSPRNG a page at a time: a call per id into OpenSSL cost
 * more than the id's use on the hot path (2.5 µs against 0.14 µs).
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

/**
 * A random key that is not a secret (a stream id, a record id), as `randomId` spells it, cut from
 * a page of CSPRNG bytes. Each byte is handed out once and wiped once used; the page holds keys
 * not issued yet, which is why secrets come from `randomId` instead.
 */
export function randomKey(bytes = 16): string {
  if (bytes > pool.length) return randomId(bytes);
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const key = pool.toString('base64url', used, used + bytes);
  pool.fill(0, used, used + bytes);
  used += bytes;
  return key;
}
