import type { BenchResults, RoundTripRow, TargetRow, TargetName } from './lib/results.js';

const ms = (value: number) => `${value.toFixed(2)} ms`;
const perSec = (value: number) => `${Math.round(value).toLocaleString('en-US')}/s`;

function row(rows: readonly RoundTripRow[], target: TargetName, auth: RoundTripRow['auth'], concurrency: number): RoundTripRow | undefined {
  return rows.find((r) => r.target === target && r.auth === auth && r.concurrency === concurrency);
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
      targets.push({
        name: `p50 overhead over direct, 1 session: ${target} (${auth})`,
        target: `≤ ${limit.toFixed(1)} ms`,
        figure: ms(overhead),
        met: overhead <= limit,
      });
    }
  }
  for (const concurrency of [16, 64]) {
    const peers = (['supergateway', 'mcp-proxy'] as const).map((p) => row(roundTrip, p, 'none', concurrency)?.callsPerSec ?? 0);
    const betterPeer = Math.max(...peers);
    for (const target of ['gatehouse serve', 'gatehouse nats'] as const) {
      const calls = row(roundTrip, target, 'jwt', concurrency)?.callsPerSec ?? 0;
      const ratio = calls / betterPeer;
      targets.push({
        name: `calls/s at ${concurrency} sessions: ${target} (jwt) ÷ better peer`,
        target: '≥ 1.5×',
        figure: `${ratio.toFixed(2)}× (${perSec(calls)} vs ${perSec(betterPeer)})`,
        met: ratio >= 1.5,
      });
    }
  }
  for (const r of sessionStart.filter((s) => s.target !== 'direct')) {
    const spawn = sessionStart.find((s) => s.target === 'direct' && s.backend === r.backend)?.p50Ms ?? Number.NaN;
    targets.push({
      name: `session start: ${r.target} (${r.backend})`,
      target: `≤ direct + 20 ms (${ms(spawn + 20)})`,
      figure: ms(r.p50Ms),
      met: r.p50Ms <= spawn + 20,
    });
  }
  for (const m of memory.perSession) {
    targets.push({
      name: `memory per open session: ${m.process}`,
      target: '≤ 100 KB',
      figure: `${(m.perSessionBytes / 1000).toFixed(1)} KB`,
      met: m.perSessionBytes <= 100_000,
    });
  }
  for (const s of memory.idleStreams) {
    targets.push({
      name: `edge RSS with ${s.streams.toLocaleString('en-US')} idle ${s.kind} streams`,
      target: '< 200 MB',
      figure: `${(s.edgeRssAfterBytes / 1e6).toFixed(1)} MB`,
      met: s.edgeRssAfterBytes < 200e6,
    });
  }
  targets.push({
    name: 'token checks on one core (token seen before)',
    target: '≥ 20,000/s',
    figure: perSec(tokenChecks.cachedPerSec),
    met: tokenChecks.cachedPerSec >= 20_000,
  });
  targets.push({
    name: 'token checks on one core (first sight: full ES256 check)',
    target: '≥ 20,000/s',
    figure: perSec(tokenChecks.firstSightPerSec),
    met: tokenChecks.firstSightPerSec >= 20_000,
  });
  return targets;
}
