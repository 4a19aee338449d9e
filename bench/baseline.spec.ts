import { baselineTarget, compareWithBaseline } from './baseline.js';
import type { BenchResults, RoundTripRow } from './lib/results.js';

type Measured = Omit<BenchResults, 'targets'>;

const trip = (target: RoundTripRow['target'], auth: RoundTripRow['auth'], concurrency: number, p50Ms: number, callsPerSec: number) => ({
  target,
  auth,
  concurrency,
  calls: 1000,
  p50Ms,
  p95Ms: p50Ms * 2,
  p99Ms: p50Ms * 3,
  callsPerSec,
});

/** A run whose every time is `slower` times the baseline's: a host that slowed down, and nothing else. */
function run(slower = 1, changes: Partial<Measured> = {}): Measured {
  return {
    startedAt: '2026-11-26T16:35:00.000Z',
    durationSec: 600,
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 24, os: 'Linux', node: 'v20' },
    versions: {},
    roundTrip: [
      trip('direct', 'none', 16, 2 * slower, 5000 / slower),
      trip('gatehouse serve', 'jwt', 16, 10 * slower, 1200 / slower),
      trip('gatehouse nats', 'jwt', 16, 15 * slower, 900 / slower),
      trip('supergateway', 'none', 16, 20 * slower, 600 / slower),
      trip('mcp-proxy', 'none', 16, 14 * slower, 800 / slower),
    ],
    sessionStart: [
      { target: 'direct', backend: 'awk server', samples: 15, p50Ms: 5 * slower, p95Ms: 6 * slower },
      { target: 'gatehouse serve', backend: 'awk server', samples: 15, p50Ms: 10 * slower, p95Ms: 14 * slower },
    ],
    memory: {
      perSession: [{ process: 'serve', sessions: 300, rssBeforeBytes: 150e6, rssAfterBytes: 158e6, perSessionBytes: 27_000 }],
      idleStreams: [{ kind: 'legacy SSE', streams: 1000, edgeRssBeforeBytes: 140e6, edgeRssAfterBytes: 160e6 }],
    },
    tokenChecks: { cachedPerSec: 2e6 / slower, firstSightPerSec: 4000 / slower },
    ...changes,
  };
}

const byMeasure = (comparisons: ReturnType<typeof compareWithBaseline>, measure: string) => comparisons.find((c) => c.measure === measure);

describe('compareWithBaseline', () => {
  it('compares every figure of the baseline, Gatehouse round trips as ratios to the peers', () => {
    const comparisons = compareWithBaseline(run(), run());
    expect(comparisons.map((c) => c.measure)).toEqual([
      "p50: gatehouse serve (jwt), 16 sessions, ÷ the peers'",
      "calls/s: gatehouse serve (jwt), 16 sessions, ÷ the peers'",
      "p50: gatehouse nats (jwt), 16 sessions, ÷ the peers'",
      "calls/s: gatehouse nats (jwt), 16 sessions, ÷ the peers'",
      "session start: gatehouse serve (awk server), ÷ the direct spawn's",
      'memory per open session: serve',
      'edge RSS with 1,000 idle legacy SSE streams',
      'token checks on one core: token seen before',
      'token checks on one core: first sight',
    ]);
    // 10 ms against √(20 × 14) ms.
    expect(comparisons[0]).toMatchObject({ baseline: '0.60×', current: '0.60×', change: 'the same', noise: '1.60×', beyondNoise: false });
    expect(baselineTarget(comparisons)).toMatchObject({ figure: '9 of 9 within noise', met: true });
  });

  it('takes a host that slowed down for no change: times are divided by what the same run measured', () => {
    const comparisons = compareWithBaseline(run(1.7), run());
    const timed = comparisons.filter((c) => !c.measure.startsWith('token checks'));
    expect(timed.map((c) => c.change)).toEqual(timed.map(() => 'the same'));
    // Token checks have nothing beside them to divide by: 1.7× fewer a second, within the noise of repeated runs.
    expect(byMeasure(comparisons, 'token checks on one core: first sight')).toMatchObject({
      baseline: '4,000/s',
      current: '2,353/s',
      change: '1.70× worse',
      beyondNoise: false,
    });
    expect(baselineTarget(comparisons).met).toBe(true);
  });

  it('finds a Gatehouse row slower than the peers by more than repeated runs move it, and names it in the target', () => {
    const slower = run(1, {
      roundTrip: run().roundTrip.map((r) =>
        r.target === 'gatehouse nats' ? { ...r, p50Ms: r.p50Ms * 1.8, callsPerSec: r.callsPerSec / 1.2 } : r,
      ),
    });
    const comparisons = compareWithBaseline(slower, run());
    expect(byMeasure(comparisons, "p50: gatehouse nats (jwt), 16 sessions, ÷ the peers'")).toMatchObject({
      change: '1.80× worse',
      beyondNoise: true,
    });
    expect(byMeasure(comparisons, "calls/s: gatehouse nats (jwt), 16 sessions, ÷ the peers'")).toMatchObject({
      change: '1.20× worse',
      beyondNoise: false,
    });
    expect(baselineTarget(comparisons)).toEqual({
      name: 'nothing slower than bench/results/2026-11-26.json beyond noise',
      target: 'every figure both runs measured, within the noise of repeated runs',
      figure: "8 of 9 within noise; beyond: p50: gatehouse nats (jwt), 16 sessions, ÷ the peers': 1.80× worse (noise 1.60×)",
      met: false,
    });
  });

  it('names the largest change within noise when nothing is beyond it', () => {
    const memory = { ...run().memory, perSession: [{ ...run().memory.perSession[0], perSessionBytes: 37_000 }] };
    const target = baselineTarget(compareWithBaseline(run(1, { memory }), run()));
    expect(target).toMatchObject({
      figure: '9 of 9 within noise; the largest change: memory per open session: serve: +10.0 KB worse (noise 15.0 KB)',
      met: true,
    });
  });

  it('counts a figure this run did not measure as beyond noise: a missing row is a miss', () => {
    const comparisons = compareWithBaseline(run(1, { sessionStart: [] }), run());
    expect(byMeasure(comparisons, "session start: gatehouse serve (awk server), ÷ the direct spawn's")).toEqual({
      measure: "session start: gatehouse serve (awk server), ÷ the direct spawn's",
      baseline: '2.00×',
      current: '—',
      change: '—',
      noise: '1.55×',
      beyondNoise: true,
    });
    expect(baselineTarget(comparisons).met).toBe(false);
  });

  it('does not compare what the baseline did not measure, and misses when nothing at all is compared', () => {
    const empty = run(1, { roundTrip: [], sessionStart: [], memory: { perSession: [], idleStreams: [] } });
    const comparisons = compareWithBaseline(run(), empty);
    expect(comparisons.map((c) => c.measure)).toEqual([
      'token checks on one core: token seen before',
      'token checks on one core: first sight',
    ]);
    expect(baselineTarget([]).met).toBe(false);
  });
});
