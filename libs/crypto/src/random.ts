import { randomBytes } from 'node:crypto';

/** A random identifier of `bytes` bytes (default 16 = 128 bits), base64url without padding. */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}
