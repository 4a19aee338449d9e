/**
 * One session's `echo` round trip through every path the one-session targets compare, measured in
 * turns (lib/turns.ts): direct stdio and the HTTP floor (whose sum is the floor), the relay floors
 * of Gatehouse's two designs, and Gatehouse itself with a JWT, each one SDK client and the Node.js
 * echo server, as the unpinned rows.
 *
 * A lone call's latency is mostly the cost of waking each process it passes through, and on a
 * machine that shares its host that cost moves from minute to minute: direct stdio measured
 * 0.07 ms at the start of one run and 0.25–0.30 ms two hours later, with nothing changed. The floor
 * and the gateway measured minutes apart compared two machines; windows seconds apart compare one.
 */
import { ECHO_SERVER } from '../fixtures/backends.js';
import { startHttpFloor, startRelayFloor } from '../fixtures/floors.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { directStdio, streamableHttp, type Connect } from '../lib/clients.js';
import { callFor, callInTurns, sessionCaller, type Caller } from '../lib/load.js';
import { startTrackedNatsServer } from '../lib/process-guard.js';
import type { RoundTripRow, RowsInTurns, TargetName } from '../lib/results.js';
import { positiveFromEnv } from '../lib/turns.js';

/** Each path's first calls, unmeasured: at one session a process's code takes seconds of calls to be optimised. */
const WARMUP_MS = positiveFromEnv('BENCH_ONE_SESSION_WARMUP_MS', 6000);
const ROUNDS = positiveFromEnv('BENCH_ONE_SESSION_ROUNDS', 6);
const WINDOW_MS = positiveFromEnv('BENCH_ONE_SESSION_WINDOW_MS', 2000);

type Progress = (line: string) => void;

interface Path {
  target: TargetName;
  auth: RoundTripRow['auth'];
  caller: Caller;
}

export async function measureOneSession(progress: Progress): Promise<RowsInTurns> {
  const paths: Path[] = [];
  const stops: (() => Promise<void>)[] = [];
  const add = async (target: TargetName, auth: RoundTripRow['auth'], connect: Connect) => {
    const caller = sessionCaller(await connect());
    paths.push({ target, auth, caller });
  };
  try {
    await add('direct', 'none', directStdio(ECHO_SERVER));
    const httpFloor = await startHttpFloor();
    stops.push(httpFloor.stop);
    await add('http floor', 'none', streamableHttp(httpFloor.url));
    const relayFloor = await startRelayFloor(ECHO_SERVER);
    stops.push(relayFloor.stop);
    await add('relay floor', 'none', streamableHttp(relayFloor.url));
    const serve = await startBenchGatehouse('all-in-one', ECHO_SERVER);
    stops.push(() => serve.stop());
    await add('gatehouse serve', 'jwt', streamableHttp(serve.mcpUrl, serve.authorization.jwt));

    // One nats-server of the run's own for both NATS paths (each on subjects of its own): no other suite's traffic.
    const nats = await startTrackedNatsServer();
    stops.push(nats.stop);
    const natsRelayFloor = await startRelayFloor(ECHO_SERVER, nats.url);
    stops.push(natsRelayFloor.stop);
    await add('nats relay floor', 'none', streamableHttp(natsRelayFloor.url));
    const distributed = await startBenchGatehouse('distributed', ECHO_SERVER, { env: { NATS_URL: nats.url } });
    stops.push(() => distributed.stop());
    await add('gatehouse nats', 'jwt', streamableHttp(distributed.mcpUrl, distributed.authorization.jwt));

    for (const path of paths) await callFor([path.caller], WARMUP_MS);
    const results = await callInTurns(
      paths.map((path) => [path.caller]),
      ROUNDS,
      WINDOW_MS,
    );
    const rows = paths.map(({ target, auth }, i): RoundTripRow => {
      const row = { target, auth, concurrency: 1, ...results[i] };
      progress(`one session, in turns: ${target} (${auth}): p50 ${row.p50Ms.toFixed(2)} ms, p99 ${row.p99Ms.toFixed(2)} ms`);
      return row;
    });
    return { turns: { warmupMs: WARMUP_MS, rounds: ROUNDS, windowMs: WINDOW_MS }, rows };
  } finally {
    await Promise.allSettled(paths.map((path) => path.caller.close()));
    for (const stop of stops.reverse()) await stop();
  }
}
