/**
 * The tail at 64 sessions, in turns (lib/turns.ts): Gatehouse (both topologies, with a JWT) and the
 * two peers, each with 64 sessions of the SDK client and a Node.js echo server per session as the
 * unpinned rows have (mcp-proxy, one for all its sessions), every one open at once and calling in
 * turns. What the p99 target judges.
 *
 * A p99 is the slowest 1% of a window's calls. The unpinned table measures each row in one window,
 * minutes after the previous row's, with its 64 backends freshly spawned: in the runs of 2026-12-07
 * the same peer's p99 went from 110 to 214 ms, and Gatehouse's relay floor, which has none of its
 * code, was better than mcp-proxy in some runs and worse in others. Here every contender's backends
 * are warm, and its windows alternate with the others' seconds apart, so a stall of the host falls
 * on every contender alike.
 */
import { ECHO_SERVER } from '../fixtures/backends.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { streamableHttp, type Connect } from '../lib/clients.js';
import { callFor, callInTurns, openCallers, sessionCaller, type Caller } from '../lib/load.js';
import { startTrackedNatsServer } from '../lib/process-guard.js';
import type { RoundTripRow, RowsInTurns, TargetName } from '../lib/results.js';
import { positiveFromEnv } from '../lib/turns.js';
import { startMcpProxy, startSupergateway } from '../peers.js';

const TAIL_SESSIONS = 64;
/** Each contender's first calls with all its sessions, unmeasured: a freshly spawned Node.js backend runs its code unoptimised for seconds. */
const WARMUP_MS = positiveFromEnv('BENCH_TAIL_WARMUP_MS', 4000);
const ROUNDS = positiveFromEnv('BENCH_TAIL_ROUNDS', 6);
const WINDOW_MS = positiveFromEnv('BENCH_TAIL_WINDOW_MS', 3000);

type Progress = (line: string) => void;

interface Contender {
  target: TargetName;
  auth: RoundTripRow['auth'];
  callers: Caller[];
}

export async function measureTailLatency(progress: Progress): Promise<RowsInTurns> {
  const contenders: Contender[] = [];
  const stops: (() => Promise<void>)[] = [];
  const add = async (target: TargetName, auth: RoundTripRow['auth'], connect: Connect) => {
    const contender: Contender = { target, auth, callers: [] };
    contenders.push(contender);
    await openCallers(async () => sessionCaller(await connect()), TAIL_SESSIONS, contender.callers);
    await callFor(contender.callers, WARMUP_MS);
  };
  try {
    const serve = await startBenchGatehouse('all-in-one', ECHO_SERVER);
    stops.push(() => serve.stop());
    await add('gatehouse serve', 'jwt', streamableHttp(serve.mcpUrl, serve.authorization.jwt));
    // A nats-server of the scenario's own: no other suite's traffic.
    const nats = await startTrackedNatsServer();
    stops.push(nats.stop);
    const distributed = await startBenchGatehouse('distributed', ECHO_SERVER, { env: { NATS_URL: nats.url } });
    stops.push(() => distributed.stop());
    await add('gatehouse nats', 'jwt', streamableHttp(distributed.mcpUrl, distributed.authorization.jwt));
    for (const [target, start] of [
      ['supergateway', startSupergateway],
      ['mcp-proxy', startMcpProxy],
    ] as const) {
      const peer = await start(ECHO_SERVER);
      stops.push(() => peer.stop());
      await add(target, 'none', streamableHttp(peer.url));
    }

    const results = await callInTurns(
      contenders.map((c) => c.callers),
      ROUNDS,
      WINDOW_MS,
    );
    const rows = contenders.map(({ target, auth }, i): RoundTripRow => {
      const row = { target, auth, concurrency: TAIL_SESSIONS, ...results[i] };
      progress(`${TAIL_SESSIONS} sessions, in turns: ${target} (${auth}): p50 ${row.p50Ms.toFixed(1)} ms, p99 ${row.p99Ms.toFixed(1)} ms`);
      return row;
    });
    return { turns: { warmupMs: WARMUP_MS, rounds: ROUNDS, windowMs: WINDOW_MS }, rows };
  } finally {
    await Promise.allSettled(contenders.flatMap((c) => c.callers.map((caller) => caller.close())));
    for (const stop of stops.reverse()) await stop();
  }
}
