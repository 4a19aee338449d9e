import type { ClientRequest } from 'node:http';
import { IDLE_SERVER } from '../fixtures/backends.js';
import { startBenchGatehouse, type RunningGatehouse } from '../gatehouse.js';
import { inParallel, openGetStream, openLegacySession, openSession } from '../lib/raw-sessions.js';
import type { IdleStreamsRow, MemoryPerSessionRow } from '../lib/results.js';
import { settledRss } from '../lib/rss.js';

const SESSIONS = Number(process.env.BENCH_MEMORY_SESSIONS ?? 300);
const STREAMS = Number(process.env.BENCH_IDLE_STREAMS ?? 1000);
const WARMUP = 20;
const PARALLEL = 16;

type Progress = (line: string) => void;

/** The gateway's own RSS per open session (backends are separate processes), for `serve` and for edge and runner. */
export async function measurePerSession(progress: Progress): Promise<MemoryPerSessionRow[]> {
  const rows: MemoryPerSessionRow[] = [];
  for (const kind of ['all-in-one', 'distributed'] as const) {
    const gatehouse = await startBenchGatehouse(kind, IDLE_SERVER);
    try {
      const open = (n: number) => inParallel(n, PARALLEL, () => openSession(gatehouse.mcpUrl, gatehouse.authorization.jwt));
      await open(WARMUP);
      const processes =
        kind === 'all-in-one'
          ? [['serve', gatehouse.edge.pid] as const]
          : ([
              ['edge', gatehouse.edge.pid],
              ['runner', gatehouse.runner.pid],
            ] as const);
      const before = await Promise.all(processes.map(([, pid]) => settledRss(pid)));
      await open(SESSIONS);
      const after = await Promise.all(processes.map(([, pid]) => settledRss(pid)));
      processes.forEach(([process], i) => {
        const [rssBeforeBytes = 0, rssAfterBytes = 0] = [before[i], after[i]];
        const perSessionBytes = (rssAfterBytes - rssBeforeBytes) / SESSIONS;
        rows.push({ process, sessions: SESSIONS, rssBeforeBytes, rssAfterBytes, perSessionBytes });
        progress(`memory ${process}: ${(perSessionBytes / 1024).toFixed(1)} KiB per session`);
      });
    } finally {
      await gatehouse.stop();
    }
  }
  return rows;
}

/** One edge (distributed topology) holding 1,000 idle sessions with an open stream each, per kind of stream. */
export async function measureIdleStreams(progress: Progress): Promise<IdleStreamsRow[]> {
  const rows: IdleStreamsRow[] = [];
  const kinds: [IdleStreamsRow['kind'], (g: RunningGatehouse) => Promise<ClientRequest>][] = [
    ['streamable-http GET', async (g) => openGetStream(g.mcpUrl, g.authorization.jwt, await openSession(g.mcpUrl, g.authorization.jwt))],
    ['legacy SSE', (g) => openLegacySession(g.sseUrl, g.authorization.jwt)],
  ];
  for (const [kind, openOne] of kinds) {
    const gatehouse = await startBenchGatehouse('distributed', IDLE_SERVER);
    const streams: ClientRequest[] = [];
    try {
      const open = (n: number) => inParallel(n, PARALLEL, async () => void streams.push(await openOne(gatehouse)));
      await open(WARMUP);
      const edgeRssBeforeBytes = await settledRss(gatehouse.edge.pid);
      await open(STREAMS);
      const edgeRssAfterBytes = await settledRss(gatehouse.edge.pid);
      rows.push({ kind, streams: STREAMS, edgeRssBeforeBytes, edgeRssAfterBytes });
      progress(`idle ${kind}: edge RSS ${(edgeRssAfterBytes / 2 ** 20).toFixed(1)} MiB with ${STREAMS + WARMUP} streams`);
    } finally {
      for (const stream of streams) stream.destroy();
      await gatehouse.stop();
    }
  }
  return rows;
}
