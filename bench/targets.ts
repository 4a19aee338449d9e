import type { BenchResults, RoundTripRow, TargetRow, TargetName } from './lib/results.js';
import { milliseconds, perSecond, ratio as formatRatio } from './report/format.js';

const ms = (value: number) => `${milliseconds(value)} ms`;
const perSec = (value: number) => `${perSecond(value)}/s`;

/** A target is met only by a figure this run measured: a missing row is a miss, never NaN or Infinity passing a test. */
function judged(name: string, target: string, figure: string, value: number, meets: (value: number) => boolean): TargetRow {
  return { name, target, figure, met: Number.isFinite(value) && meets(value) };
}

function row(rows: readonly RoundTripRow[], target: TargetName, auth: RoundTripRow['auth'], concurrency: number): RoundTripRow | undefined {
  // The targets are about 2025 sessions: a 2026-07-28 row never stands in for one.
  return rows.find((r) => r.target === target && r.auth === auth && r.concurrency === concurrency && r.protocol === undefined);
}

/** The targets, judged on this run's figures (ratios within the run, never absolute times). */
export function judgeTargets(results: Omit<BenchResults, 'targets'>): TargetRow[] {
  const { roundTrip, sessionStart, memory, tokenChecks } = results;
  const targets: TargetRow[] = [];
  const direct1 = row(roundTrip, 'direct', 'none', 1)?.p50Ms ?? Number.NaN;
  for (const [target, limit] of [
    ['gatehouse serve', 0.5],
    ['gatehouse nats', 1.0],
  ] as const) {
    for (const auth of ['bearer', 'jwt'] as const) {
      const overhead = (row(roundTrip, target, auth, 1)?.p50Ms ?? Number.NaN) - direct1;
      const name = `p50 overhead over direct, 1 session: ${target} (${auth})`;
      targets.push(judged(name, `≤ ${limit.toFixed(1)} ms`, ms(overhead), overhead, (v) => v <= limit));
    }
  }
  for (const concurrency of [16, 64]) {
    const peers = (['supergateway', 'mcp-proxy'] as const).flatMap((p) => row(roundTrip, p, 'none', concurrency)?.callsPerSec ?? []);
    const betterPeer = peers.length > 0 ? Math.max(...peers) : Number.NaN;
    for (const target of ['gatehouse serve', 'gatehouse nats'] as const) {
      const calls = row(roundTrip, target, 'jwt', concurrency)?.callsPerSec ?? Number.NaN;
      const ratio = betterPeer > 0 ? calls / betterPeer : Number.NaN;
      const figure = `${formatRatio(calls, betterPeer)} (${perSec(calls)} vs ${perSec(betterPeer)})`;
      targets.push(judged(`calls/s at ${concurrency} sessions: ${target} (jwt) ÷ better peer`, '≥ 1.5×', figure, ratio, (v) => v >= 1.5));
    }
  }
  for (const r of sessionStart.filter((s) => s.target !== 'direct')) {
    const spawn = sessionStart.find((s) => s.target === 'direct' && s.backend === r.backend)?.p50Ms ?? Number.NaN;
    const name = `session start: ${r.target} (${r.backend})`;
    targets.push(judged(name, `≤ direct + 20 ms (${ms(spawn + 20)})`, ms(r.p50Ms), r.p50Ms - spawn, (v) => v <= 20));
  }
  for (const m of memory.perSession) {
    const figure = `${(m.perSessionBytes / 1000).toFixed(1)} KB`;
    targets.push(judged(`memory per open session: ${m.process}`, '≤ 100 KB', figure, m.perSessionBytes, (v) => v <= 100_000));
  }
  for (const s of memory.idleStreams) {
    const name = `edge RSS with ${s.streams.toLocaleString('en-US')} idle ${s.kind} streams`;
    targets.push(judged(name, '< 200 MB', `${(s.edgeRssAfterBytes / 1e6).toFixed(1)} MB`, s.edgeRssAfterBytes, (v) => v < 200e6));
  }
  for (const [which, rate] of [
    ['token seen before', tokenChecks.cachedPerSec],
    ['first sight: full ES256 check', tokenChecks.firstSightPerSec],
  ] as const) {
    targets.push(judged(`token checks on one core (${which})`, '≥ 20,000/s', perSec(rate), rate, (v) => v >= 20_000));
  }
  return targets;
}
