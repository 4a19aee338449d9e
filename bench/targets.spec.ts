import type { BenchResults, RoundTripRow } from './lib/results.js';
import { judgeTargets } from './targets.js';

const trip = (
  target: RoundTripRow['target'],
  auth: RoundTripRow['auth'],
  concurrency: number,
  p50Ms: number,
  callsPerSec: number,
): RoundTripRow => ({
  target,
  auth,
  concurrency,
  calls: 1000,
  p50Ms,
  p95Ms: p50Ms * 2,
  p99Ms: p50Ms * 3,
  callsPerSec,
});

function results(roundTrip: RoundTripRow[]): Omit<BenchResults, 'targets'> {
  return {
    startedAt: '2026-11-26T16:00:00.000Z',
    durationSec: 300,
    machine: { cpuModel: 'cpu', cores: 2, memoryGiB: 24, os: 'Linux', node: 'v20' },
    versions: {},
    roundTrip,
    sessionStart: [
      { target: 'direct', backend: 'awk server', samples: 5, p50Ms: 4, p95Ms: 5 },
      { target: 'gatehouse serve', backend: 'awk server', samples: 5, p50Ms: 30, p95Ms: 40 },
    ],
    memory: {
      perSession: [{ process: 'edge', sessions: 300, rssBeforeBytes: 0, rssAfterBytes: 6e6, perSessionBytes: 20_000 }],
      idleStreams: [],
    },
    tokenChecks: { cachedPerSec: 2e6, firstSightPerSec: 4000 },
  };
}

const find = (rows: ReturnType<typeof judgeTargets>, name: string) => rows.find((t) => t.name === name);

describe('judgeTargets', () => {
  it('judges each target on the figures of the run', () => {
    const rows = judgeTargets(
      results([
        trip('direct', 'none', 1, 0.2, 5000),
        trip('gatehouse serve', 'jwt', 1, 0.6, 900),
        trip('gatehouse serve', 'jwt', 16, 5, 3000),
        trip('supergateway', 'none', 16, 9, 1000),
        trip('mcp-proxy', 'none', 16, 8, 1800),
      ]),
    );
    expect(find(rows, 'p50 overhead over direct, 1 session: gatehouse serve (jwt)')).toMatchObject({ figure: '0.40 ms', met: true });
    expect(find(rows, 'calls/s at 16 sessions: gatehouse serve (jwt) ÷ better peer')).toMatchObject({
      figure: '1.67× (3,000/s vs 1,800/s)',
      met: true,
    });
    expect(find(rows, 'session start: gatehouse serve (awk server)')).toMatchObject({ figure: '30.00 ms', met: false });
    expect(find(rows, 'memory per open session: edge')).toMatchObject({ met: true });
    expect(find(rows, 'token checks on one core (first sight: full ES256 check)')).toMatchObject({ figure: '4,000/s', met: false });
  });

  it('counts a target whose rows are missing as missed, never as met by NaN or Infinity', () => {
    const rows = judgeTargets(results([trip('gatehouse serve', 'jwt', 16, 5, 3000)]));
    expect(find(rows, 'p50 overhead over direct, 1 session: gatehouse serve (jwt)')).toMatchObject({ figure: '— ms', met: false });
    expect(find(rows, 'calls/s at 16 sessions: gatehouse serve (jwt) ÷ better peer')).toMatchObject({
      figure: '— (3,000/s vs —/s)',
      met: false,
    });
    expect(rows.map((t) => t.figure).join(' ')).not.toMatch(/NaN|Infinity/);
  });

  it('judges the 2025 rows only: a 2026-07-28 row of the same target and auth never stands in for one', () => {
    const modern = (row: RoundTripRow): RoundTripRow => ({ ...row, protocol: '2026-07-28' });
    const rows = judgeTargets(
      results([
        trip('direct', 'none', 1, 0.2, 5000),
        modern(trip('gatehouse serve', 'bearer', 1, 0.3, 3000)),
        trip('gatehouse serve', 'bearer', 1, 1.2, 800),
        modern(trip('gatehouse serve', 'jwt', 1, 0.3, 3000)),
      ]),
    );
    expect(find(rows, 'p50 overhead over direct, 1 session: gatehouse serve (bearer)')).toMatchObject({ figure: '1.00 ms', met: false });
    expect(find(rows, 'p50 overhead over direct, 1 session: gatehouse serve (jwt)')).toMatchObject({ figure: '— ms', met: false });
  });
});
