/** "Round trip to a remote server": the remote rows, each set against the SDK client calling the server straight. */
import type { RoundTripRow } from '../lib/results.js';
import { milliseconds, perSecond, ratio, signedMilliseconds } from './format.js';
import { table, type Column } from './markdown-table.js';
import { concurrencies, referenceRow, roundTripSeries } from './round-trip-series.js';

const COLUMNS: Column[] = [
  { header: 'target' },
  { header: 'auth' },
  { header: 'p50 (ms)', align: 'right' },
  { header: 'p95 (ms)', align: 'right' },
  { header: 'p99 (ms)', align: 'right' },
  { header: 'calls/s', align: 'right' },
  { header: 'p50 − direct (ms)', align: 'right' },
  { header: 'calls/s ÷ direct', align: 'right' },
];

export function remoteRoundTripSection(rows: readonly RoundTripRow[] | undefined): string {
  const measured = rows ?? [];
  const series = roundTripSeries(measured);
  const tables = concurrencies(measured).map((c) => {
    const direct = referenceRow(measured, 'direct', c);
    const body = series.map((s) => {
      const row = s.byConcurrency.get(c);
      return [
        s.target,
        s.auth,
        milliseconds(row?.p50Ms),
        milliseconds(row?.p95Ms),
        milliseconds(row?.p99Ms),
        perSecond(row?.callsPerSec),
        signedMilliseconds((row?.p50Ms ?? Number.NaN) - (direct?.p50Ms ?? Number.NaN)),
        ratio(row?.callsPerSec, direct?.callsPerSec),
      ];
    });
    return `### Remote: ${c === 1 ? '1 session' : `${c} concurrent sessions`}\n\n${table(COLUMNS, body)}`;
  });
  return [
    '## Round trip to a remote server',
    'The same calls to `@modelcontextprotocol/server-everything` running as a remote server over streamable HTTP: ' +
      '`direct` is the SDK client talking to it itself; the Gatehouse rows go through the edge to a runner, which holds ' +
      'one upstream session per client session. p50 − direct is what the gateway adds to each call.',
    ...(tables.length > 0 ? tables : ['_Remote round trips were not measured in this run._']),
  ].join('\n\n');
}
