import { ECHO_SERVER, IDLE_SERVER, type BackendCommand } from '../fixtures/backends.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { directStdio, disconnect, streamableHttp, type Connect } from '../lib/clients.js';
import type { SessionStartRow, TargetName } from '../lib/results.js';
import { msSince, percentiles } from '../lib/stats.js';

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

/** Session start through each Gatehouse topology against spawning the backend directly, for two backends. */
export async function measureSessionStart(progress: (line: string) => void): Promise<SessionStartRow[]> {
  const backends: [SessionStartRow['backend'], BackendCommand][] = [
    ['node echo server', ECHO_SERVER],
    ['awk server', IDLE_SERVER],
  ];
  const rows: SessionStartRow[] = [];
  for (const [name, backend] of backends) {
    rows.push(await sample('direct', name, directStdio(backend)));
    for (const kind of ['all-in-one', 'distributed'] as const) {
      const gatehouse = await startBenchGatehouse(kind, backend);
      try {
        const target = kind === 'all-in-one' ? 'gatehouse serve' : 'gatehouse nats';
        rows.push(await sample(target, name, streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.jwt)));
      } finally {
        await gatehouse.stop();
      }
    }
  }
  for (const row of rows) progress(`session start ${row.target} (${row.backend}): p50 ${row.p50Ms.toFixed(1)} ms`);
  return rows;
}
