import { ECHO_SERVER } from '../fixtures/backends.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { directStdio, streamableHttp, type Connect } from '../lib/clients.js';
import { runLoad } from '../lib/load.js';
import type { RoundTripRow, TargetName } from '../lib/results.js';
import { startMcpProxy, startSupergateway, type RunningPeer } from '../peers.js';

export const CONCURRENCY = [1, 16, 64];
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 50);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 4000);

type Progress = (line: string) => void;

/** `echo` round trips through `connect` at each concurrency, after an unmeasured warm-up. */
export async function measure(
  target: TargetName,
  auth: RoundTripRow['auth'],
  connect: Connect,
  progress: Progress,
  label?: string,
): Promise<RoundTripRow[]> {
  const rows: RoundTripRow[] = [];
  // Unmeasured: the first seconds through a freshly started process pay for JIT compilation (a
  // series measured right after start-up was 30% slower than the same series measured later).
  await runLoad(connect, { concurrency: 4, warmupCalls: 0, durationMs: WARMUP_MS });
  for (const concurrency of CONCURRENCY) {
    const result = await runLoad(connect, { concurrency, warmupCalls: WARMUP_CALLS, durationMs: DURATION_MS });
    rows.push({ target, auth, concurrency, ...result });
    progress(
      `${label ?? ''}${target} (${auth}) ×${concurrency}: p50 ${result.p50Ms.toFixed(2)} ms, ${Math.round(result.callsPerSec)} calls/s`,
    );
  }
  return rows;
}

/** `echo` round trips at 1, 16 and 64 sessions: direct, Gatehouse (bearer and JWT, both topologies), the peers. */
export async function measureRoundTrips(progress: Progress): Promise<RoundTripRow[]> {
  const rows = await measure('direct', 'none', directStdio(ECHO_SERVER), progress);
  for (const kind of ['all-in-one', 'distributed'] as const) {
    const gatehouse = await startBenchGatehouse(kind, ECHO_SERVER);
    try {
      const target = kind === 'all-in-one' ? 'gatehouse serve' : 'gatehouse nats';
      rows.push(...(await measure(target, 'bearer', streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.bearer), progress)));
      rows.push(...(await measure(target, 'jwt', streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.jwt), progress)));
    } finally {
      await gatehouse.stop();
    }
  }
  const peers: [TargetName, typeof startSupergateway][] = [
    ['supergateway', startSupergateway],
    ['mcp-proxy', startMcpProxy],
  ];
  for (const [target, start] of peers) {
    const peer: RunningPeer = await start(ECHO_SERVER);
    try {
      rows.push(...(await measure(target, 'none', streamableHttp(peer.url), progress)));
    } finally {
      await peer.stop();
    }
  }
  return rows;
}
