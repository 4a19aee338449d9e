import { ECHO_SERVER, IDLE_SERVER, type BackendCommand } from '../fixtures/backends.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { directStdio, disconnect, streamableHttp, type Connect } from '../lib/clients.js';
import type { PoolStartRow, SessionStartRow, TargetName } from '../lib/results.js';
import { msSince, percentiles } from '../lib/stats.js';
import { inTurns } from '../lib/turns.js';
import { samplePoolStart } from './pool-start.js';

const SAMPLES = Number(process.env.BENCH_SESSION_SAMPLES ?? 15);

/** The time to one usable session: connect (initialize) and tools/list. */
async function oneSessionStart(connect: Connect): Promise<number> {
  const start = process.hrtime.bigint();
  const client = await connect();
  await client.listTools();
  const ms = msSince(start);
  await disconnect(client);
  return ms;
}

/**
 * Session start through each Gatehouse topology against spawning the backend directly, for two
 * backends, one session after another and the three in turns (a backend's start-up moved by 70%
 * between runs an hour apart, and the target is the difference); with the Node.js echo server,
 * also a 2026-07-28 client's start on a warm and a cold pool.
 */
export async function measureSessionStart(
  progress: (line: string) => void,
): Promise<{ sessionStart: SessionStartRow[]; poolStart: PoolStartRow[] }> {
  const backends: [SessionStartRow['backend'], BackendCommand][] = [
    ['node echo server', ECHO_SERVER],
    ['awk server', IDLE_SERVER],
  ];
  const rows: SessionStartRow[] = [];
  const poolStart: PoolStartRow[] = [];
  for (const [name, backend] of backends) {
    const serve = await startBenchGatehouse('all-in-one', backend);
    const distributed = await startBenchGatehouse('distributed', backend).catch(async (err: unknown) => {
      await serve.stop();
      throw err;
    });
    try {
      const targets: { target: TargetName; connect: Connect; times: number[] }[] = [
        { target: 'direct', connect: directStdio(backend), times: [] },
        { target: 'gatehouse serve', connect: streamableHttp(serve.mcpUrl, serve.authorization.jwt), times: [] },
        { target: 'gatehouse nats', connect: streamableHttp(distributed.mcpUrl, distributed.authorization.jwt), times: [] },
      ];
      // Round 0 is unmeasured: each first spawn pays for cold caches.
      await inTurns(targets, SAMPLES, async (entry, measured) => {
        const ms = await oneSessionStart(entry.connect);
        if (measured) entry.times.push(ms);
      });
      for (const { target, times } of targets) {
        const { p50, p95 } = percentiles(times);
        rows.push({ target, backend: name, samples: SAMPLES, p50Ms: p50, p95Ms: p95 });
      }
      if (backend === ECHO_SERVER) {
        for (const [target, gatehouse] of [
          ['gatehouse serve', serve],
          ['gatehouse nats', distributed],
        ] as const) {
          const session2025 = streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.bearer);
          poolStart.push(...(await samplePoolStart(target, gatehouse.mcpUrl, session2025, gatehouse.otherBearers, SAMPLES)));
        }
      }
    } finally {
      await Promise.all([serve.stop(), distributed.stop()]);
    }
  }
  for (const row of rows) progress(`session start ${row.target} (${row.backend}): p50 ${row.p50Ms.toFixed(1)} ms`);
  for (const row of poolStart) {
    const { target, start, firstAnswerP50Ms: answer, firstCallP50Ms: call } = row;
    progress(`first answers ${target} (${start}): p50 ${answer.toFixed(1)} ms, first echo ${call.toFixed(1)} ms`);
  }
  return { sessionStart: rows, poolStart };
}
