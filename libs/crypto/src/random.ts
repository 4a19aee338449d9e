import { randomFillSync } from 'node:crypto';

/**
 * Random bytes drawn from the CSPRNG a page at a time and handed out once each, as node:crypto's
 * randomUUID does: a call per id into OpenSSL cost more than the id's use on the hot path.
 */
const pool = Buffer.alloc(4096);
let used = pool.length;

/** A random identifier of `bytes` bytes (default 16 = 128 bits), base64url without padding. */
export function randomId(bytes = 16): string {
  if (bytes > pool.length) return randomFillSync(Buffer.alloc(bytes)).toString('base64url');
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const id = pool.toString('base64url', used, used + bytes);
  used += bytes;
  return id;
}
