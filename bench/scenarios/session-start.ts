import { ECHO_SERVER, IDLE_SERVER, type BackendCommand } from '../fixtures/backends.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { directStdio, disconnect, streamableHttp, type Connect } from '../lib/clients.js';
import type { PoolStartRow, SessionStartRow, TargetName } from '../lib/results.js';
import { msSince, percentiles } from '../lib/stats.js';
import { samplePoolStart } from './pool-start.js';

const SAMPLES = Number(process.env.BENCH_SESSION_SAMPLES ?? 15);

/** Time to a usable session: connect (initialize) and tools/list, one session after another. */
async function sample(target: TargetName, backend: SessionStartRow['backend'], connect: Connect): Promise<SessionStartRow> {
  const times: number[] = [];
  // One unmeasured session: the first spawn pays for cold caches.
  await disconnect(await connect());
  for (let i = 0; i < SAMPLES; i++) {
    const start = process.hrtime.bigint();
    const client = await connect();
    await client.listTools();
    times.push(msSince(start));
    await disconnect(client);
  }
  const { p50, p95 } = percentiles(times);
  return { target, backend, samples: SAMPLES, p50Ms: p50, p95Ms: p95 };
}

/**
 * Session start through each Gatehouse topology against spawning the backend directly, for two
 * backends; with the Node.js echo server, also a 2026-07-28 client's start on a warm and a cold pool.
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
    rows.push(await sample('direct', name, directStdio(backend)));
    for (const kind of ['all-in-one', 'distributed'] as const) {
      const gatehouse = await startBenchGatehouse(kind, backend);
      try {
        const target = kind === 'all-in-one' ? 'gatehouse serve' : 'gatehouse nats';
        rows.push(await sample(target, name, streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.jwt)));
        if (backend === ECHO_SERVER) {
          const session2025 = streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.bearer);
          poolStart.push(...(await samplePoolStart(target, gatehouse.mcpUrl, session2025, gatehouse.otherBearers, SAMPLES)));
        }
      } finally {
        await gatehouse.stop();
      }
    }
  }
  for (const row of rows) progress(`session start ${row.target} (${row.backend}): p50 ${row.p50Ms.toFixed(1)} ms`);
  for (const row of poolStart) {
    const { target, start, firstAnswerP50Ms: answer, firstCallP50Ms: call } = row;
    progress(`first answers ${target} (${start}): p50 ${answer.toFixed(1)} ms, first echo ${call.toFixed(1)} ms`);
  }
  return { sessionStart: rows, poolStart };
}
