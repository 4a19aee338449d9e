/** "Round trip of a tool call": one table per concurrency, each row set against the direct floor and the peers. */
import type { RoundTripRow } from '../lib/results.js';
import { MISSING, milliseconds, perSecond, ratio } from './format.js';
import { table, type Column } from './markdown-table.js';
import { concurrencies, isGatehouse, PEERS, referenceRow, roundTripSeries, type RoundTripSeries } from './round-trip-series.js';

/** Where the chart sits relative to docs/benchmarks.md. */
export const CHART_FILE = 'benchmarks-latency.svg';

const COLUMNS: Column[] = [
  { header: 'target' },
  { header: 'auth' },
  { header: 'p50 (ms)', align: 'right' },
  { header: 'p95 (ms)', align: 'right' },
  { header: 'p99 (ms)', align: 'right' },
  { header: 'calls/s', align: 'right' },
  { header: 'p50 ÷ direct', align: 'right' },
  { header: 'calls/s ÷ direct', align: 'right' },
  ...PEERS.map((peer): Column => ({ header: `× ${peer}`, align: 'right' })),
];

export function roundTripSection(rows: readonly RoundTripRow[]): string {
  const series = roundTripSeries(rows);
  const tables = concurrencies(rows).map((c) => `### ${sessions(c)}\n\n${concurrencyTable(rows, series, c)}`);
  return [
    '## Round trip of a tool call',
    'Each session calls `echo` in a loop and waits for the answer before the next call; all sessions run at once. ' +
      '`http floor` is the same SDK client against a bare HTTP endpoint that answers at once (no gateway, no backend). ' +
      'p50 ÷ direct says how many times slower than the bare stdio connection a call is; calls/s ÷ direct how much of the ' +
      "direct throughput is kept. The × columns set a Gatehouse row's calls/s against each peer's (above 1.00× is faster). " +
      'Rows marked 2026-07-28 are stateless calls (no initialize, no session; `_meta` and the MCP-Protocol-Version, ' +
      'Mcp-Method and Mcp-Name headers on each) by as many SDK v2 clients pinned to that revision, all of one identity ' +
      "(the bearer token), served by that identity's warm pool of backend sessions, open before measuring: there are " +
      'as many concurrent calls, but only as many backends as the pool holds, not one per session.',
    ...(tables.length > 0 ? tables : ['_No round trips were measured in this run._']),
    `![p50 latency against concurrency](${CHART_FILE})`,
  ].join('\n\n');
}

function sessions(concurrency: number): string {
  return concurrency === 1 ? '1 session' : `${concurrency} concurrent sessions`;
}

function concurrencyTable(rows: readonly RoundTripRow[], series: RoundTripSeries[], concurrency: number): string {
  const direct = referenceRow(rows, 'direct', concurrency);
  const peers = PEERS.map((peer) => referenceRow(rows, peer, concurrency));
  const body = series.map((s) => {
    const row = s.byConcurrency.get(concurrency);
    const againstPeers = peers.map((peer) => (isGatehouse(s.target) ? ratio(row?.callsPerSec, peer?.callsPerSec) : MISSING));
    return [
      s.target,
      s.protocol === undefined ? s.auth : `${s.auth}, ${s.protocol}`,
      milliseconds(row?.p50Ms),
      milliseconds(row?.p95Ms),
      milliseconds(row?.p99Ms),
      perSecond(row?.callsPerSec),
      ratio(row?.p50Ms, direct?.p50Ms),
      ratio(row?.callsPerSec, direct?.callsPerSec),
      ...againstPeers,
    ];
  });
  return table(COLUMNS, body);
}
