import { LogRateLimiter } from './log-rate-limiter.js';

function limiter(summaryEveryMs = 60_000) {
  let now = 0;
  const summaries: number[] = [];
  const limits = new LogRateLimiter(
    { perSecond: 10, burst: 5, summaryEveryMs },
    (dropped) => summaries.push(dropped),
    () => now,
  );
  return { limits, summaries, advance: (ms: number) => (now += ms) };
}

function admitted(limits: LogRateLimiter, attempts: number): number {
  let count = 0;
  for (let i = 0; i < attempts; i++) if (limits.admit()) count++;
  return count;
}

describe('LogRateLimiter', () => {
  it('lets a burst through, then the refill rate', () => {
    const { limits, advance } = limiter();
    expect(admitted(limits, 100)).toBe(5);
    advance(1000);
    expect(admitted(limits, 100)).toBe(5); // 10 refilled, capped at the burst
    advance(300);
    expect(admitted(limits, 100)).toBe(3);
    limits.close();
  });

  it('summarizes what it dropped when closed, and nothing when nothing was dropped', () => {
    const { limits, summaries } = limiter();
    admitted(limits, 5);
    limits.close();
    expect(summaries).toEqual([]);
    const second = limiter();
    admitted(second.limits, 25);
    second.limits.close();
    expect(second.summaries).toEqual([20]);
  });

  it('summarizes periodically while dropping', async () => {
    const { limits, summaries } = limiter(20);
    admitted(limits, 12);
    const summarized = new Promise<void>((resolve) => {
      const poll = setInterval(() => summaries.length > 0 && (clearInterval(poll), resolve()), 5);
    });
    await summarized;
    expect(summaries).toEqual([7]);
    limits.close();
    expect(summaries).toEqual([7]);
  });
});
