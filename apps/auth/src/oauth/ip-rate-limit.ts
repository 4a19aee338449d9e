import { isIP } from 'node:net';
import type { FastifyReply } from 'fastify';

export interface IpRateLimitOptions {
  /** Tokens added per minute. Default 10. */
  perMinute?: number;
  /** Bucket size: requests allowed at once after a quiet spell. Default 20. */
  burst?: number;
  /** Buckets kept; the least recently used are forgotten (that client starts again with a full bucket). Default 10,000. */
  maxTrackedIps?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * How often one client address may call an endpoint (registration, /authorize): a token bucket per address.
 * IPv6 addresses count per /64, because one host is routinely given a whole /64 to choose from.
 */
export class IpRateLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly tokensPerMs: number;
  private readonly burst: number;
  private readonly maxTrackedIps: number;
  private readonly now: () => number;

  constructor(options: IpRateLimitOptions = {}) {
    this.tokensPerMs = (options.perMinute ?? 10) / 60_000;
    this.burst = options.burst ?? 20;
    this.maxTrackedIps = options.maxTrackedIps ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** true = allowed; consumes a token. */
  take(ip: string): boolean {
    const bucket = this.refilled(ip);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Seconds until the next token, for Retry-After; 0 when one is available now. */
  retryAfterSeconds(ip: string): number {
    const { tokens } = this.refilled(ip);
    if (tokens >= 1) return 0;
    if (this.tokensPerMs <= 0) return Number.MAX_SAFE_INTEGER;
    return Math.max(1, Math.ceil((1 - tokens) / this.tokensPerMs / 1000));
  }

  /** The address's bucket topped up for the time passed, now the most recently used. */
  private refilled(ip: string): Bucket {
    const key = rateKey(ip);
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, now - bucket.updatedAt) * this.tokensPerMs);
    bucket.updatedAt = now;
    // Re-inserting moves it to the end of the Map's order, so the first key is the least recently used.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size <= this.maxTrackedIps) break;
      this.buckets.delete(oldest);
    }
    return bucket;
  }
}

/** The unit an address is limited by: an IPv4 address (also when IPv4-mapped), an IPv6 /64, or the string as given. */
export function rateKey(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const groups = ipv6Groups(ip);
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6] ?? 0, groups[7] ?? 0].map((group) => `${group >> 8}.${group & 0xff}`).join('.');
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** A valid IPv6 address as its eight 16-bit groups. */
function ipv6Groups(ip: string): number[] {
  const bare = ip.split('%', 1)[0] ?? ip;
  const [head = '', tail] = bare.split('::', 2);
  const parse = (part: string) => (part === '' ? [] : part.split(':').flatMap(groupsOf));
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** One group, or two for a trailing dotted IPv4 part. */
function groupsOf(part: string): number[] {
  if (!part.includes('.')) return [parseInt(part, 16)];
  const [a = 0, b = 0, c = 0, d = 0] = part.split('.').map(Number);
  return [(a << 8) | b, (c << 8) | d];
}

/** Takes a token for `ip`; when none is left, sets Retry-After and says so (the caller answers 429). */
export function throttled(limit: IpRateLimit, ip: string, reply: FastifyReply): boolean {
  if (limit.take(ip)) return false;
  void reply.header('retry-after', String(limit.retryAfterSeconds(ip)));
  return true;
}
