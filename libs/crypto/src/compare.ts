import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares secrets in constant time, whatever their lengths (both are hashed to 32 bytes first). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Constant-time membership: every candidate is compared, so timing does not reveal which matched. */
export function constantTimeIncludes(candidates: readonly string[], value: string): boolean {
  let found = false;
  for (const candidate of candidates) found = constantTimeEqual(candidate, value) || found;
  return found;
}
