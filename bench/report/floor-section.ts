/** "The floor": what a call costs with no gateway at all, HTTP and stdio each, and Gatehouse's one session above it. */
import type { RoundTripRow, TargetName } from '../lib/results.js';
import { milliseconds, signedMilliseconds } from './format.js';
import { table, type Column } from './markdown-table.js';
import { findRow, floorP50Ms, referenceRow } from './round-trip-series.js';

const COLUMNS: Column[] = [
  { header: 'path' },
  { header: 'p50, 1 session (ms)', align: 'right' },
  { header: 'over the floor (ms)', align: 'right' },
];

export function floorSection(rows: readonly RoundTripRow[]): string {
  const floor = floorP50Ms(rows);
  const p50 = (target: TargetName) => referenceRow(rows, target, 1)?.p50Ms;
  const body = [
    ['http floor: the SDK client over HTTP to an endpoint that answers at once', milliseconds(p50('http floor')), ''],
    ['direct: the SDK client over stdio to the echo server', milliseconds(p50('direct')), ''],
    ['floor: their sum', milliseconds(floor), ''],
    ...(['gatehouse serve', 'gatehouse nats'] as const).map((target) => {
      const jwt = findRow(rows, target, 'jwt', 1)?.p50Ms;
      return [`${target} (jwt)`, milliseconds(jwt), signedMilliseconds((jwt ?? Number.NaN) - floor)];
    }),
  ];
  return [
    '## The floor',
    'No gateway can answer a call faster than the client can speak HTTP plus the backend can answer over stdio. ' +
      'The floor is the sum of two p50s of one session: the `http floor` row (the same SDK client calling `echo` on a ' +
      'bare node:http endpoint, in a process of its own, that answers at once with no MCP server and no backend behind ' +
      'it) and the `direct` row (the client spawning the echo server and calling it over stdio). What a gateway adds is ' +
      'its p50 over the floor.',
    p50('http floor') === undefined ? '_The HTTP floor was not measured in this run._' : table(COLUMNS, body),
  ].join('\n\n');
}
