import { hash, timingSafeEqual } from 'node:crypto';
import { sha256Base64Url } from './hash.js';

const sha256 = (value: string): Buffer => hash('sha256', value, 'buffer');

/** Compares secrets in constant time, whatever their lengths (both are hashed to 32 bytes first). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

/** Each list of configured secrets by the digest of each (its first place, when one repeats): hashed once. */
const placesByDigest = new WeakMap<readonly string[], Map<string, number>>();

/**
 * Finds `value` among `candidates` without comparing secrets: the presented value is hashed, and
 * its digest looked up among theirs, as tokens stored by their hashes are. The time taken depends
 * only on the digest, which an attacker cannot steer toward a configured secret's. -1 if none.
 * `candidates` should be a long-lived list (a server's configured tokens): its digests are kept for
 * as long as it is.
 */
export function indexOfSecret(candidates: readonly string[], value: string): number {
  let places = placesByDigest.get(candidates);
  if (places === undefined) {
    places = new Map();
    for (const [i, candidate] of candidates.entries()) {
      const digest = sha256Base64Url(candidate);
      if (!places.has(digest)) places.set(digest, i);
    }
    placesByDigest.set(candidates, places);
  }
  return places.get(sha256Base64Url(value)) ?? -1;
}
