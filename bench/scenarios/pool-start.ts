/**
 * A new client's first answers through Gatehouse, with the Node.js echo server as the backend: a
 * 2025 session (initialize spawns the session's backend), and a 2026-07-28 client whose identity's
 * warm pool is open, or cold (an identity never seen: its first request spawns the pool's backend).
 */
import type { Connect } from '../lib/clients.js';
import { sessionCaller, type Caller } from '../lib/load.js';
import { connectSdkModern } from '../lib/modern-clients.js';
import type { PoolStartRow } from '../lib/results.js';
import { msSince, percentiles } from '../lib/stats.js';

type Start = PoolStartRow['start'];

/** The two times of one new client: its first request answered, and its first `echo` answered. */
interface Timing {
  firstAnswerMs: number;
  firstCallMs: number;
}

/** Times a client from its first request: `connect` sends it (initialize or server/discover), then one `echo`. */
async function timeOne(connect: () => Promise<Caller>): Promise<Timing> {
  const start = process.hrtime.bigint();
  const client = await connect();
  try {
    const firstAnswerMs = msSince(start);
    await client.call();
    return { firstAnswerMs, firstCallMs: msSince(start) };
  } finally {
    await client.close();
  }
}

/**
 * `samples` of each kind of start, taken in turn (2025, warm, cold, 2025, …) so that drift in the
 * machine's speed falls on all three alike. `bearers` are identities no other scenario uses: the
 * first is the warm pool's (opened, unmeasured, before sampling), the others are spent one per cold
 * sample and one unmeasured first spawn.
 */
export async function samplePoolStart(
  target: PoolStartRow['target'],
  mcpUrl: string,
  session2025: Connect,
  bearers: readonly string[],
  samples: number,
): Promise<PoolStartRow[]> {
  const [warm, ...cold] = bearers;
  if (warm === undefined || cold.length < samples + 1)
    throw new Error(`pool start needs ${samples + 2} spare bearer tokens, not ${bearers.length}`);
  const modern = (authorization: string) => () => connectSdkModern(mcpUrl, authorization);
  const legacy = async () => sessionCaller(await session2025());
  // Unmeasured: the warm identity's first client opens its pool; the first spawn pays for cold caches.
  await timeOne(modern(warm));
  await timeOne(modern(cold[0]));
  await timeOne(legacy);
  const timings: Record<Start, Timing[]> = { '2025 session': [], '2026 warm pool': [], '2026 cold pool': [] };
  for (let i = 0; i < samples; i++) {
    timings['2025 session'].push(await timeOne(legacy));
    timings['2026 warm pool'].push(await timeOne(modern(warm)));
    timings['2026 cold pool'].push(await timeOne(modern(cold[i + 1])));
  }
  return (Object.entries(timings) as [Start, Timing[]][]).map(([start, times]) => {
    const answer = percentiles(times.map((t) => t.firstAnswerMs));
    const call = percentiles(times.map((t) => t.firstCallMs));
    return {
      target,
      start,
      samples: times.length,
      firstAnswerP50Ms: answer.p50,
      firstAnswerP95Ms: answer.p95,
      firstCallP50Ms: call.p50,
      firstCallP95Ms: call.p95,
    };
  });
}
