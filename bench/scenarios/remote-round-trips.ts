import { startRemoteEverything } from '../fixtures/remote-everything.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { streamableHttp } from '../lib/clients.js';
import type { RoundTripRow } from '../lib/results.js';
import { measure } from './round-trips.js';

/**
 * `echo` round trips to a remote server-everything over streamable HTTP: the SDK client straight
 * to it, then through `gatehouse serve` and over NATS (bearer), whose runner holds one upstream
 * session per client session. Same method and concurrencies as the stdio rows.
 */
export async function measureRemoteRoundTrips(progress: (line: string) => void): Promise<RoundTripRow[]> {
  const upstream = await startRemoteEverything();
  try {
    const rows = await measure('direct', 'none', streamableHttp(upstream.url), progress, { label: 'remote ' });
    for (const kind of ['all-in-one', 'distributed'] as const) {
      const gatehouse = await startBenchGatehouse(kind, { url: upstream.url });
      try {
        const target = kind === 'all-in-one' ? 'gatehouse serve' : 'gatehouse nats';
        rows.push(
          ...(await measure(target, 'bearer', streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.bearer), progress, {
            label: 'remote ',
          })),
        );
      } finally {
        await gatehouse.stop();
      }
    }
    return rows;
  } finally {
    await upstream.stop();
  }
}
