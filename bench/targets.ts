import { baselineTarget } from './baseline.js';
import { callsPerGatewayCoreSec, idleStreamsName, type BenchResults, type DensityResult, type TargetRow } from './lib/results.js';
import { kilobytes, megabytes, milliseconds, rate as perSec, ratio as formatRatio, signedMilliseconds } from './report/format.js';
import { betterPeer, findRow as row, floorP50Ms, relayFloorRow } from './report/round-trip-series.js';

type Measured = Omit<BenchResults, 'targets'>;

const ms = (value: number) => `${milliseconds(value)} ms`;
const GATEHOUSE_JWT = ['gatehouse serve', 'gatehouse nats'] as const;

/** A target is met only by a figure this run measured: a missing row is a miss, never NaN or Infinity passing a test. */
function judged(name: string, target: string, figure: string, value: number, meets: (value: number) => boolean): TargetRow {
  return { name, target, figure, met: Number.isFinite(value) && meets(value) };
}

/** The issue's targets, judged on this run's figures (ratios and differences within the run, never absolute times). */
export function judgeTargets(results: Measured): TargetRow[] {
  return [
    ...oneSessionTargets(results),
    ...pinnedThroughputTargets(results),
    ...tailLatencyTargets(results),
    ...sessionStartTargets(results),
    ...memoryTargets(results),
    ...tokenCheckTargets(results),
    ...densityTargets(results.density),
    ...(results.againstBaseline ? [baselineTarget(results.againstBaseline.comparisons, results.againstBaseline.file)] : []),
  ];
}

/**
 * p50 of one session over the floor (the HTTP floor plus direct stdio), from the rows measured in
 * turns when the run has them (older runs measured every path one after another). The figure names
 * the relay floor of the topology's design over the floor too, when it was measured.
 */
function oneSessionTargets({ roundTrip, oneSession }: Measured): TargetRow[] {
  const rows = oneSession?.rows ?? roundTrip;
  const floor = floorP50Ms(rows);
  return GATEHOUSE_JWT.map((target) => {
    const limit = target === 'gatehouse serve' ? 0.3 : 0.6;
    const p50 = row(rows, target, 'jwt', 1)?.p50Ms ?? Number.NaN;
    const relay = relayFloorRow(rows, target, 1)?.p50Ms;
    const design = relay === undefined ? '' : `; the relay floor of its design: ${signedMilliseconds(relay - floor)} ms`;
    const name = `p50, 1 session: ${target} (jwt)`;
    const figure = `${ms(p50)}, ${signedMilliseconds(p50 - floor)} ms (floor ${ms(floor)}${design})`;
    return judged(name, `≤ floor + ${limit.toFixed(1)} ms`, figure, p50 - floor, (v) => v <= limit);
  });
}

/**
 * Calls per second of one gateway core (the gateway pinned to one core, the load on the other; its
 * calls over its CPU seconds), against the better peer measured the same way. The figure names the
 * relay floor's ratio too: what the topology's design allows with none of Gatehouse's work.
 */
function pinnedThroughputTargets({ pinnedRoundTrip }: Measured): TargetRow[] {
  const rows = pinnedRoundTrip?.rows ?? [];
  return [16, 64].flatMap((concurrency) => {
    const peer = betterPeer(rows, concurrency, callsPerGatewayCoreSec, Math.max);
    return GATEHOUSE_JWT.map((target) => {
      const least = target === 'gatehouse serve' ? 1.5 : 1.0;
      const calls = callsPerGatewayCoreSec(row(rows, target, 'jwt', concurrency));
      const ratio = peer > 0 ? calls / peer : Number.NaN;
      const floor = callsPerGatewayCoreSec(relayFloorRow(rows, target, concurrency));
      const figure = `${formatRatio(calls, peer)} (${perSec(calls)} vs ${perSec(peer)}; the relay floor of its design: ${formatRatio(floor, peer)})`;
      const name = `calls per gateway core-second at ${concurrency} sessions (pinned): ${target} (jwt) ÷ better peer`;
      return judged(name, `≥ ${least.toFixed(1)}×`, figure, ratio, (v) => v >= least);
    });
  });
}

/**
 * p99 at 64 sessions against the lower p99 of the two peers: on the rows measured in turns when the
 * run has them (`tailLatency`), else on the unpinned rows, which name the relay floor of each design.
 */
function tailLatencyTargets({ roundTrip, tailLatency }: Measured): TargetRow[] {
  const rows = tailLatency?.rows ?? roundTrip;
  const peer = betterPeer(rows, 64, (r) => r.p99Ms, Math.min);
  return GATEHOUSE_JWT.map((target) => {
    const p99 = row(rows, target, 'jwt', 64)?.p99Ms ?? Number.NaN;
    const relay = relayFloorRow(rows, target, 64)?.p99Ms;
    const notes = [...(tailLatency ? ['in turns'] : []), ...(relay === undefined ? [] : [`the relay floor of its design: ${ms(relay)}`])];
    const figure = `${ms(p99)} vs ${ms(peer)}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
    const name = `p99 at 64 sessions: ${target} (jwt)`;
    return judged(name, "≤ the better peer's p99", figure, p99 - peer, (v) => v <= 0);
  });
}

function sessionStartTargets({ sessionStart }: Measured): TargetRow[] {
  return sessionStart
    .filter((s) => s.target !== 'direct')
    .map((r) => {
      const spawn = sessionStart.find((s) => s.target === 'direct' && s.backend === r.backend)?.p50Ms ?? Number.NaN;
      const name = `session start: ${r.target} (${r.backend})`;
      return judged(name, `≤ direct + 20 ms (${ms(spawn + 20)})`, ms(r.p50Ms), r.p50Ms - spawn, (v) => v <= 20);
    });
}

function memoryTargets({ memory }: Measured): TargetRow[] {
  return [
    ...memory.perSession.map((m) =>
      judged(`memory per open session: ${m.process}`, '≤ 100 KB', kilobytes(m.perSessionBytes), m.perSessionBytes, (v) => v <= 100_000),
    ),
    ...memory.idleStreams.map((s) => {
      return judged(idleStreamsName(s), '< 200 MB', megabytes(s.edgeRssAfterBytes), s.edgeRssAfterBytes, (v) => v < 200e6);
    }),
  ];
}

/**
 * The issue set first sight at 12,000 checks/s where node:crypto's ES256 verify alone did 14,000/s.
 * Verify alone has moved by a third within minutes on the benchmark's machine, so a run that measured
 * it judges the first sight's share of it, as every other target is a ratio within the run (the two
 * are measured in turns); a run that did not, the 12,000.
 */
const FIRST_SIGHT_SHARE = 12_000 / 14_000;

function tokenCheckTargets({ tokenChecks }: Measured): TargetRow[] {
  const { cachedPerSec, firstSightPerSec, signatureOnlyPerSec } = tokenChecks;
  const name = 'token checks on one core (first sight: full ES256 check)';
  const firstSight =
    signatureOnlyPerSec === undefined
      ? judged(name, `≥ ${perSec(12_000)}`, perSec(firstSightPerSec), firstSightPerSec, (v) => v >= 12_000)
      : judged(
          name,
          `≥ ${FIRST_SIGHT_SHARE.toFixed(3)} × verify alone (${perSec(12_000)} of ${perSec(14_000)})`,
          `${perSec(firstSightPerSec)}, ${(firstSightPerSec / signatureOnlyPerSec).toFixed(3)} × node:crypto's ES256 verify alone (${perSec(signatureOnlyPerSec)})`,
          firstSightPerSec / signatureOnlyPerSec,
          (v) => v >= FIRST_SIGHT_SHARE,
        );
  return [
    judged('token checks on one core (token seen before)', `≥ ${perSec(20_000)}`, perSec(cachedPerSec), cachedPerSec, (v) => v >= 20_000),
    firstSight,
  ];
}

/** One runner holding thousands of sessions: RSS per open session of runner and edge, and echo's p99 meanwhile. */
function densityTargets(density: DensityResult | undefined): TargetRow[] {
  const open = density?.sessionsOpen ?? 0;
  const perSession = (before?: number, after?: number) => (open > 0 ? ((after ?? Number.NaN) - (before ?? Number.NaN)) / open : Number.NaN);
  const sessions =
    density === undefined ? 'not measured' : `${open.toLocaleString('en-US')} of ${density.sessionsAsked.toLocaleString('en-US')} open`;
  const rss = (process: string, bytes: number) =>
    judged(`density: ${process} RSS per open session`, '≤ 30 KB', `${kilobytes(bytes)} (${sessions})`, bytes, (v) => v <= 30_000);
  const p99 = density?.echo.p99Ms ?? Number.NaN;
  const callers = density?.echo.callers ?? 0;
  return [
    rss('runner', perSession(density?.runnerRssBeforeBytes, density?.runnerRssAfterBytes)),
    rss('edge', perSession(density?.edgeRssBeforeBytes, density?.edgeRssAfterBytes)),
    judged('density: echo p99 while every session stays open', 'reported', `${ms(p99)} (${callers} callers, ${sessions})`, p99, () => true),
  ];
}
