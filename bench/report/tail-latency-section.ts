/** "The tail at 64 sessions": Gatehouse and the peers calling in turns, each row's p99 set against the better peer's. */
import type { RowsInTurns } from '../lib/results.js';
import { milliseconds, perSecond, ratio, seconds } from './format.js';
import { table, type Column } from './markdown-table.js';
import { betterPeer } from './round-trip-series.js';

const COLUMNS: Column[] = [
  { header: 'target' },
  { header: 'auth' },
  { header: 'sessions', align: 'right' },
  { header: 'p50 (ms)', align: 'right' },
  { header: 'p95 (ms)', align: 'right' },
  { header: 'p99 (ms)', align: 'right' },
  { header: 'calls/s', align: 'right' },
  { header: "p99 ÷ the better peer's", align: 'right' },
];

export function tailLatencySection(tail: RowsInTurns | undefined): string {
  const heading = '## The tail at 64 sessions, in turns';
  if (tail === undefined) return [heading, '_Not measured in this run: its p99 target judged the unpinned rows._'].join('\n\n');
  const { rows, turns } = tail;
  // One row per contender, in the order they were measured.
  const body = rows.map((row) => [
    row.target,
    row.auth,
    String(row.concurrency),
    milliseconds(row.p50Ms),
    milliseconds(row.p95Ms),
    milliseconds(row.p99Ms),
    perSecond(row.callsPerSec),
    ratio(
      row.p99Ms,
      betterPeer(rows, row.concurrency, (r) => r.p99Ms, Math.min),
    ),
  ]);
  return [
    heading,
    'What the p99 target judges. Gatehouse (both topologies, with a JWT) and the peers, each with its sessions of the SDK ' +
      'client calling `echo` on the Node.js echo server (a backend per session; mcp-proxy spawns one for all of them), ' +
      `all open at once; they called in turns, ${seconds(turns.windowMs)} each, over ${turns.rounds} rounds, after ` +
      `${seconds(turns.warmupMs)} of unmeasured calls each. In the unpinned table each row is one window with freshly ` +
      "spawned backends, minutes after the row before it: its p99s move by more from one run to the next than the rows' " +
      'differences. Windows seconds apart see the same machine.',
    body.length > 0 ? table(COLUMNS, body) : '_No rows were measured._',
  ].join('\n\n');
}
