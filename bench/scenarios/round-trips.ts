import { readRuntimeEnvironment } from '#config';
import { ECHO_SERVER } from '../fixtures/backends.js';
import { startHttpFloor, startRelayFloor, type RunningFloor } from '../fixtures/floors.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { directStdio, streamableHttp, type Connect } from '../lib/clients.js';
import { runCalls, sessionCaller, type Caller } from '../lib/load.js';
import { connectSdkModern } from '../lib/modern-clients.js';
import type { RoundTripRow, TargetName } from '../lib/results.js';
import { startMcpProxy, startSupergateway, type RunningPeer } from '../peers.js';

export const CONCURRENCY = [1, 16, 64];
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const WARMUP_CALLS = Number(process.env.BENCH_WARMUP_CALLS ?? 50);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 4000);
/** Before the 2026-07-28 rows, which come after the 2025 ones in a process already warm: JIT of the stateless path, and the pool filled. */
const MODERN_WARMUP_MS = Number(process.env.BENCH_MODERN_WARMUP_MS ?? 1000);

type Progress = (line: string) => void;

export interface MeasureOptions {
  /** Before each progress line, e.g. "remote ". */
  label?: string;
}

/** `echo` round trips through `connect` at each concurrency, after an unmeasured warm-up. */
export async function measure(
  target: TargetName,
  auth: RoundTripRow['auth'],
  connect: Connect,
  progress: Progress,
  options: MeasureOptions = {},
): Promise<RoundTripRow[]> {
  // Unmeasured: the first seconds through a freshly started process pay for JIT compilation (a
  // series measured right after start-up was 30% slower than the same series measured later).
  return measureCallers({ target, auth }, async () => sessionCaller(await connect()), progress, { ...options, warmupMs: WARMUP_MS });
}

/** The same for any caller: `open` gives one client, whichever revision it speaks. */
async function measureCallers(
  base: Pick<RoundTripRow, 'target' | 'auth' | 'protocol'>,
  open: () => Promise<Caller>,
  progress: Progress,
  options: MeasureOptions & { warmupMs: number; warmupConcurrency?: number },
): Promise<RoundTripRow[]> {
  const rows: RoundTripRow[] = [];
  await runCalls(open, { concurrency: options.warmupConcurrency ?? 4, warmupCalls: 0, durationMs: options.warmupMs });
  for (const concurrency of CONCURRENCY) {
    const result = await runCalls(open, { concurrency, warmupCalls: WARMUP_CALLS, durationMs: DURATION_MS });
    rows.push({ ...base, concurrency, ...result });
    const what = `${base.target} (${base.auth}${base.protocol === undefined ? '' : `, ${base.protocol}`})`;
    progress(`${options.label ?? ''}${what} ×${concurrency}: p50 ${result.p50Ms.toFixed(2)} ms, ${Math.round(result.callsPerSec)} calls/s`);
  }
  return rows;
}

/**
 * 2026-07-28 `echo` calls: at each concurrency that many SDK v2 clients (pinned to the revision) of
 * one identity, the bearer token's, served by its warm pool. The warm-up runs at 16 clients, which
 * is enough to open every session the pool may hold (a session is shared by 8 calls before the
 * pool opens another): no measured call waits for a spawn.
 */
function measureModern(target: TargetName, mcpUrl: string, authorization: string, progress: Progress): Promise<RoundTripRow[]> {
  const open = () => connectSdkModern(mcpUrl, authorization);
  return measureCallers({ target, auth: 'bearer', protocol: '2026-07-28' }, open, progress, {
    warmupMs: MODERN_WARMUP_MS,
    warmupConcurrency: 16,
  });
}

/**
 * `echo` round trips at 1, 16 and 64 sessions: direct, the HTTP floor and the relay floors, Gatehouse (bearer and JWT, both
 * topologies; and 2026-07-28 stateless calls, bearer), the peers.
 */
export async function measureRoundTrips(progress: Progress): Promise<RoundTripRow[]> {
  const rows = await measure('direct', 'none', directStdio(ECHO_SERVER), progress);
  // The floors: HTTP with no gateway, and Gatehouse's two designs with none of its work (the NATS one on the
  // nats-server the distributed rows below use, on subjects of its own).
  const floors: [TargetName, () => Promise<RunningFloor>][] = [
    ['http floor', startHttpFloor],
    ['relay floor', () => startRelayFloor(ECHO_SERVER)],
    ['nats relay floor', () => startRelayFloor(ECHO_SERVER, readRuntimeEnvironment(process.env).natsUrl)],
  ];
  for (const [target, start] of floors) {
    const floor = await start();
    try {
      rows.push(...(await measure(target, 'none', streamableHttp(floor.url), progress)));
    } finally {
      await floor.stop();
    }
  }
  for (const kind of ['all-in-one', 'distributed'] as const) {
    const gatehouse = await startBenchGatehouse(kind, ECHO_SERVER);
    try {
      const target = kind === 'all-in-one' ? 'gatehouse serve' : 'gatehouse nats';
      rows.push(...(await measure(target, 'bearer', streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.bearer), progress)));
      rows.push(...(await measure(target, 'jwt', streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.jwt), progress)));
      rows.push(...(await measureModern(target, gatehouse.mcpUrl, gatehouse.authorization.bearer, progress)));
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
