/** "The floor": what a call costs with no gateway at all, HTTP and stdio each, and Gatehouse's one session above it. */
import type { RoundTripRow, RowsInTurns, TargetName } from '../lib/results.js';
import { milliseconds, seconds, signedMilliseconds } from './format.js';
import { table, type Column } from './markdown-table.js';
import { findRow, floorP50Ms, referenceRow } from './round-trip-series.js';

const COLUMNS: Column[] = [
  { header: 'path' },
  { header: 'p50, 1 session (ms)', align: 'right' },
  { header: 'over the floor (ms)', align: 'right' },
];

const RELAY_FLOORS: [TargetName, string][] = [
  ['relay floor', 'relay floor: one process relaying each line to a backend of its own (`serve`’s design, none of its work)'],
  ['nats relay floor', 'nats relay floor: the same as an edge and a runner over NATS (the distributed design)'],
];

/** The section, from the rows measured in turns when the run has them (`oneSession`), else from the unpinned rows. */
export function floorSection(roundTrip: readonly RoundTripRow[], oneSession?: RowsInTurns): string {
  const rows = oneSession?.rows ?? roundTrip;
  const floor = floorP50Ms(rows);
  const p50 = (target: TargetName) => referenceRow(rows, target, 1)?.p50Ms;
  const overFloor = (label: string, value: number | undefined) => [
    label,
    milliseconds(value),
    signedMilliseconds((value ?? Number.NaN) - floor),
  ];
  const body = [
    ['http floor: the SDK client over HTTP to an endpoint that answers at once', milliseconds(p50('http floor')), ''],
    ['direct: the SDK client over stdio to the echo server', milliseconds(p50('direct')), ''],
    ['floor: their sum', milliseconds(floor), ''],
    ...RELAY_FLOORS.filter(([target]) => p50(target) !== undefined).map(([target, label]) => overFloor(label, p50(target))),
    ...(['gatehouse serve', 'gatehouse nats'] as const).map((target) =>
      overFloor(`${target} (jwt)`, findRow(rows, target, 'jwt', 1)?.p50Ms),
    ),
  ];
  const how =
    oneSession === undefined
      ? 'Each path was measured on its own, one after another.'
      : `Every path here ran at once and they called in turns, ${seconds(oneSession.turns.windowMs)} each, ` +
        `over ${oneSession.turns.rounds} rounds (after ${seconds(oneSession.turns.warmupMs)} of unmeasured ` +
        'calls each): a lone call costs mostly the waking of each process it passes through, which moves with the host ' +
        'from one minute to the next, and windows seconds apart see the same machine. The relay floors are what each of ' +
        "Gatehouse's designs costs with none of its work; the unpinned table below measures its paths one after another.";
  return [
    '## The floor',
    'No gateway can answer a call faster than the client can speak HTTP plus the backend can answer over stdio. ' +
      'The floor is the sum of two p50s of one session: the `http floor` row (the same SDK client calling `echo` on a ' +
      'bare node:http endpoint, in a process of its own, that answers at once with no MCP server and no backend behind ' +
      'it) and the `direct` row (the client spawning the echo server and calling it over stdio). What a gateway adds is ' +
      `its p50 over the floor. ${how}`,
    p50('http floor') === undefined ? '_The HTTP floor was not measured in this run._' : table(COLUMNS, body),
  ].join('\n\n');
}
