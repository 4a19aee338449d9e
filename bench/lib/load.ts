import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { disconnect } from './clients.js';
import { msSince, percentiles } from './stats.js';

export interface LoadResult {
  calls: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  callsPerSec: number;
}

export interface LoadOptions {
  /** Concurrent sessions, each a client of its own calling in a loop. */
  concurrency: number;
  /** Calls per session before measuring. */
  warmupCalls: number;
  /** How long every session calls, measured. */
  durationMs: number;
}

/**
 * Opens `concurrency` sessions with `connect`, warms each up, then has all of them call `echo`
 * back to back for `durationMs`: the latency of every call and the calls per second of all.
 */
export async function runLoad(connect: () => Promise<Client>, options: LoadOptions): Promise<LoadResult> {
  const clients: Client[] = [];
  try {
    // Opened one by one: a burst of spawns is the session-start benchmark's business.
    for (let i = 0; i < options.concurrency; i++) clients.push(await connect());
    const call = (client: Client) => client.callTool({ name: 'echo', arguments: { message: 'ping' } });
    await Promise.all(
      clients.map(async (client) => {
        for (let i = 0; i < options.warmupCalls; i++) await call(client);
      }),
    );
    const samples: number[] = [];
    const started = process.hrtime.bigint();
    const deadline = Date.now() + options.durationMs;
    await Promise.all(
      clients.map(async (client) => {
        while (Date.now() < deadline) {
          const start = process.hrtime.bigint();
          await call(client);
          samples.push(msSince(start));
        }
      }),
    );
    const elapsedSec = msSince(started) / 1000;
    const { p50, p95, p99 } = percentiles(samples);
    return { calls: samples.length, p50Ms: p50, p95Ms: p95, p99Ms: p99, callsPerSec: samples.length / elapsedSec };
  } finally {
    await Promise.all(clients.map((client) => disconnect(client)));
  }
}
