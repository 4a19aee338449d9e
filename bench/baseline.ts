/**
 * The issue's last target: nothing measured may get slower than in the run of 2026-11-26 beyond
 * noise. This host's speed moved by 70% from one run to another, so a figure that depends on it is
 * compared as its ratio to something the same run measured with code that did not change between
 * the two: a round trip to the two peers', a session start to the direct spawn's. Memory is
 * compared as it is. Only what both runs measured is compared.
 */
import { idleStreamsName, type BaselineComparison, type BenchResults, type RoundTripRow, type TargetRow } from './lib/results.js';
import { kilobytes, megabytes, MISSING, rate } from './report/format.js';
import { betterPeer, findRow } from './report/round-trip-series.js';

/** The run before the second performance round, from the repository root. */
export const BASELINE_FILE = 'bench/results/2026-11-26.json';

type Measured = Omit<BenchResults, 'targets'>;

/**
 * How far a figure moved between runs of `npm run bench` on this machine without a change of its
 * own, from the runs stored in bench/results' history, rounded up:
 * - round trips: supergateway ÷ mcp-proxy (the same code in every run), p50 and calls/s; in 90% of
 *   the pairs of the 15 runs from 2026-11-26 to 2026-12-07 it moved by less than this factor;
 * - session start ÷ direct spawn, memory per session, idle-stream RSS and token checks per second:
 *   the whole range over the seven runs from 2026-12-06 15:45 to 2026-12-07 07:15 (Gatehouse's code
 *   changed between some of them, so this bounds the noise from above). Token checks are compared
 *   as they are, since the baseline measured nothing beside them to divide by: the check of a token
 *   seen before did from 0.56 to 1.79 million a second over those runs.
 */
const NOISE = {
  roundTrip: new Map([
    [1, 2.0],
    [16, 1.6],
    [64, 1.5],
  ]),
  sessionStart: { 'node echo server': 1.25, 'awk server': 1.55 },
  memoryPerSessionBytes: 15_000,
  idleStreamBytes: 15e6,
  tokenChecks: 3.2,
};

type Noise = { factor: number } | { bytes: number };

interface Compared {
  measure: string;
  baseline: number;
  current: number;
  better: 'lower' | 'higher';
  noise: Noise;
  show: (value: number) => string;
}

/** Every figure the baseline measured, against this run's; one this run lacks is beyond noise (a missing row is a miss). */
export function compareWithBaseline(current: Measured, baseline: Measured): BaselineComparison[] {
  return [
    ...roundTrips(current.roundTrip, baseline.roundTrip),
    ...sessionStarts(current, baseline),
    ...memory(current, baseline),
    ...tokenChecks(current, baseline),
  ]
    .filter((c) => Number.isFinite(c.baseline))
    .map(judge);
}

/** One target row: met when no compared figure is worse than its noise. */
export function baselineTarget(comparisons: readonly BaselineComparison[], file = BASELINE_FILE): TargetRow {
  const beyond = comparisons.filter((c) => c.beyondNoise);
  const worst = [...comparisons].sort((a, b) => (b.noiseShare ?? 0) - (a.noiseShare ?? 0))[0];
  const summary = `${comparisons.length - beyond.length} of ${comparisons.length} within noise`;
  const named = beyond.length > 0 ? beyond : worst && (worst.noiseShare ?? 0) > 0 ? [worst] : [];
  const detail = named.map((c) => `${c.measure}: ${c.change} (noise ${c.noise})`).join('; ');
  return {
    name: `nothing slower than ${file} beyond noise`,
    target: 'every figure both runs measured, within the noise of repeated runs',
    figure: detail === '' ? summary : `${summary}; ${beyond.length > 0 ? 'beyond' : 'the largest change'}: ${detail}`,
    met: comparisons.length > 0 && beyond.length === 0,
  };
}

/** p50 and calls/s of each Gatehouse row, as a ratio to the geometric mean of the two peers at its concurrency. */
function roundTrips(current: readonly RoundTripRow[], baseline: readonly RoundTripRow[]): Compared[] {
  // betterPeer joins the two peers' figures with the function it is given: here their geometric mean.
  const peers = (rows: readonly RoundTripRow[], concurrency: number, pick: (r: RoundTripRow) => number) =>
    betterPeer(rows, concurrency, pick, (a, b) => Math.sqrt(a * b));
  const toPeers = (rows: readonly RoundTripRow[], row: RoundTripRow, pick: (r: RoundTripRow) => number) => {
    const found = findRow(rows, row.target, row.auth, row.concurrency);
    return found === undefined ? Number.NaN : pick(found) / peers(rows, row.concurrency, pick);
  };
  const gatehouse = baseline.filter((r) => r.protocol === undefined && (r.target === 'gatehouse serve' || r.target === 'gatehouse nats'));
  return gatehouse.flatMap((row) => {
    const factor = NOISE.roundTrip.get(row.concurrency) ?? Math.max(...NOISE.roundTrip.values());
    const name = `${row.target} (${row.auth}), ${row.concurrency} session${row.concurrency === 1 ? '' : 's'}`;
    const metric = (label: string, pick: (r: RoundTripRow) => number, better: Compared['better']): Compared => ({
      measure: `${label}: ${name}, ÷ the peers'`,
      baseline: toPeers(baseline, row, pick),
      current: toPeers(current, row, pick),
      better,
      noise: { factor },
      show: (value) => `${value.toFixed(2)}×`,
    });
    return [metric('p50', (r) => r.p50Ms, 'lower'), metric('calls/s', (r) => r.callsPerSec, 'higher')];
  });
}

function sessionStarts(current: Measured, baseline: Measured): Compared[] {
  const toDirect = ({ sessionStart }: Measured, target: string, backend: keyof typeof NOISE.sessionStart) => {
    const p50 = (name: string) => sessionStart.find((s) => s.target === name && s.backend === backend)?.p50Ms ?? Number.NaN;
    return p50(target) / p50('direct');
  };
  return baseline.sessionStart
    .filter((s) => s.target !== 'direct')
    .map((s) => ({
      measure: `session start: ${s.target} (${s.backend}), ÷ the direct spawn's`,
      baseline: toDirect(baseline, s.target, s.backend),
      current: toDirect(current, s.target, s.backend),
      better: 'lower',
      noise: { factor: NOISE.sessionStart[s.backend] },
      show: (value) => `${value.toFixed(2)}×`,
    }));
}

function memory(current: Measured, baseline: Measured): Compared[] {
  const perSession = baseline.memory.perSession.map((m): Compared => ({
    measure: `memory per open session: ${m.process}`,
    baseline: m.perSessionBytes,
    current: current.memory.perSession.find((c) => c.process === m.process)?.perSessionBytes ?? Number.NaN,
    better: 'lower',
    noise: { bytes: NOISE.memoryPerSessionBytes },
    show: kilobytes,
  }));
  const idle = baseline.memory.idleStreams.map((s): Compared => ({
    measure: idleStreamsName(s),
    baseline: s.edgeRssAfterBytes,
    current: current.memory.idleStreams.find((c) => c.kind === s.kind && c.streams === s.streams)?.edgeRssAfterBytes ?? Number.NaN,
    better: 'lower',
    noise: { bytes: NOISE.idleStreamBytes },
    show: megabytes,
  }));
  return [...perSession, ...idle];
}

function tokenChecks(current: Measured, baseline: Measured): Compared[] {
  const checks = (measure: string, pick: (t: Measured['tokenChecks']) => number): Compared => ({
    measure,
    baseline: pick(baseline.tokenChecks),
    current: pick(current.tokenChecks),
    better: 'higher',
    noise: { factor: NOISE.tokenChecks },
    show: rate,
  });
  return [
    checks('token checks on one core: token seen before', (t) => t.cachedPerSec),
    checks('token checks on one core: first sight', (t) => t.firstSightPerSec),
  ];
}

function judge(c: Compared): BaselineComparison {
  const show = (value: number) => (Number.isFinite(value) ? c.show(value) : MISSING);
  const common = { measure: c.measure, baseline: show(c.baseline), current: show(c.current) };
  if ('factor' in c.noise) {
    // How many times worse: above 1 when this run is slower, below when faster.
    const worse = c.better === 'lower' ? c.current / c.baseline : c.baseline / c.current;
    const known = Number.isFinite(worse) && worse > 0;
    return {
      ...common,
      change: known ? factorChange(worse) : MISSING,
      noise: `${c.noise.factor.toFixed(2)}×`,
      ...(known && { noiseShare: Math.log(worse) / Math.log(c.noise.factor) }),
      beyondNoise: !known || worse > c.noise.factor,
    };
  }
  const worse = c.better === 'lower' ? c.current - c.baseline : c.baseline - c.current;
  const known = Number.isFinite(worse);
  return {
    ...common,
    change: known ? amountChange(worse, c.show) : MISSING,
    noise: c.show(c.noise.bytes),
    ...(known && { noiseShare: worse / c.noise.bytes }),
    beyondNoise: !known || worse > c.noise.bytes,
  };
}

/** "1.09× worse", "1.20× better", or "the same" when the two read alike. */
function factorChange(worse: number): string {
  const times = Math.max(worse, 1 / worse).toFixed(2);
  if (times === '1.00') return 'the same';
  return `${times}× ${worse > 1 ? 'worse' : 'better'}`;
}

/** "+2.0 KB worse", "-6.9 MB better", or "the same" when the difference reads as none. */
function amountChange(worse: number, show: (value: number) => string): string {
  const amount = show(Math.abs(worse));
  if (amount === show(0)) return 'the same';
  return worse > 0 ? `+${amount} worse` : `-${amount} better`;
}
