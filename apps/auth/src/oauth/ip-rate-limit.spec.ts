import { rateKey, IpRateLimit } from './ip-rate-limit.js';

function clock(start = 1_000_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

function takeMany(limit: IpRateLimit, ip: string, count: number): number {
  let allowed = 0;
  for (let i = 0; i < count; i += 1) if (limit.take(ip)) allowed += 1;
  return allowed;
}

describe('IpRateLimit', () => {
  it('allows a burst, then refuses until tokens come back', () => {
    const time = clock();
    const limit = new IpRateLimit({ perMinute: 10, burst: 20, now: time.now });
    expect(takeMany(limit, '203.0.113.5', 25)).toBe(20);
    expect(limit.retryAfterSeconds('203.0.113.5')).toBe(6);
    time.advance(5_999);
    expect(limit.take('203.0.113.5')).toBe(false);
    expect(limit.retryAfterSeconds('203.0.113.5')).toBe(1);
    time.advance(1);
    expect(limit.take('203.0.113.5')).toBe(true);
    expect(limit.take('203.0.113.5')).toBe(false);
  });

  it('refills at perMinute up to the burst, not beyond', () => {
    const time = clock();
    const limit = new IpRateLimit({ perMinute: 10, burst: 20, now: time.now });
    takeMany(limit, '203.0.113.5', 20);
    time.advance(60_000);
    expect(takeMany(limit, '203.0.113.5', 30)).toBe(10);
    time.advance(3_600_000);
    expect(takeMany(limit, '203.0.113.5', 30)).toBe(20);
  });

  it('defaults to 10 a minute with a burst of 20', () => {
    const time = clock();
    const limit = new IpRateLimit({ now: time.now });
    expect(takeMany(limit, '198.51.100.1', 30)).toBe(20);
    time.advance(30_000);
    expect(takeMany(limit, '198.51.100.1', 30)).toBe(5);
  });

  it('answers 0 seconds when a token is available', () => {
    expect(new IpRateLimit().retryAfterSeconds('198.51.100.1')).toBe(0);
  });

  it('keeps addresses apart', () => {
    const limit = new IpRateLimit({ burst: 2, now: clock().now });
    expect(takeMany(limit, '198.51.100.1', 5)).toBe(2);
    expect(takeMany(limit, '198.51.100.2', 5)).toBe(2);
  });

  it('counts an IPv6 /64 as one client, and an IPv4-mapped address as its IPv4 address', () => {
    const limit = new IpRateLimit({ burst: 2, now: clock().now });
    expect(limit.take('2001:db8:1:2::1')).toBe(true);
    expect(limit.take('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe(true);
    expect(limit.take('2001:0db8:0001:0002:abcd::9')).toBe(false);
    expect(limit.take('2001:db8:1:3::1')).toBe(true);
    expect(limit.take('198.51.100.9')).toBe(true);
    expect(limit.take('::ffff:198.51.100.9')).toBe(true);
    expect(limit.take('198.51.100.9')).toBe(false);
  });

  it('forgets the least recently used address when tracking more than maxTrackedIps', () => {
    const limit = new IpRateLimit({ burst: 1, maxTrackedIps: 2, now: clock().now });
    limit.take('198.51.100.1');
    limit.take('198.51.100.2');
    limit.take('198.51.100.1');
    limit.take('198.51.100.3');
    // .2 was evicted and starts again with a full bucket; .1 was used recently and is still empty.
    expect(limit.take('198.51.100.2')).toBe(true);
    expect(limit.take('198.51.100.3')).toBe(false);
  });
});

describe('rateKey', () => {
  it('reduces addresses to the unit they are limited by', () => {
    expect(rateKey('198.51.100.9')).toBe('198.51.100.9');
    expect(rateKey('::ffff:198.51.100.9')).toBe('198.51.100.9');
    expect(rateKey('::ffff:c633:6409')).toBe('198.51.100.9');
    expect(rateKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(rateKey('::1')).toBe('0:0:0:0::/64');
    expect(rateKey('not-an-ip')).toBe('not-an-ip');
  });
});
