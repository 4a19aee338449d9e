import { createHash, timingSafeEqual } from 'node:crypto';

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Compares secrets in constant time, whatever their lengths (both are hashed to 32 bytes first). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** The digests of each list of configured secrets, hashed once: a request hashes only what it presents. */
const digestsOf = new WeakMap<readonly string[], Buffer[]>();

/**
 * Constant-time lookup: every candidate is compared, so timing does not reveal which matched; -1 if
 * none. `candidates` should be a long-lived list (a server's configured tokens): its digests are
 * kept for as long as it is.
 */
export function constantTimeIndexOf(candidates: readonly string[], value: string): number {
  let digests = digestsOf.get(candidates);
  if (digests === undefined) {
    digests = candidates.map(sha256);
    digestsOf.set(candidates, digests);
  }
  const presented = sha256(value);
  let found = -1;
  digests.forEach((digest, i) => {
    if (timingSafeEqual(digest, presented) && found < 0) found = i;
  });
  return found;
}
