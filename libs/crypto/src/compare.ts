import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares secrets in constant time, whatever their lengths (both are hashed to 32 bytes first). */
export function constantTimeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Constant-time lookup: every candidate is compared, so timing does not reveal which matched; -1 if none. */
export function constantTimeIndexOf(candidates: readonly string[], value: string): number {
  let found = -1;
  candidates.forEach((candidate, i) => {
    if (constantTimeEqual(candidate, value) && found < 0) found = i;
  });
  return found;
}
