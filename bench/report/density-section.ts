/** "Density": one runner holding thousands of open sessions, what each costs the runner and the edge, and echo meanwhile. */
import type { DensityResult } from '../lib/results.js';
import { bytes, kibibytes, milliseconds } from './format.js';
import { table, type Column } from './markdown-table.js';

const COLUMNS: Column[] = [
  { header: 'process' },
  { header: 'RSS before', align: 'right' },
  { header: 'RSS after', align: 'right' },
  { header: 'per open session', align: 'right' },
];

export function densitySection(density: DensityResult | undefined): string {
  return ['## Density', ...(density === undefined ? ['_Not measured in this run._'] : measured(density))].join('\n\n');
}

function measured(d: DensityResult): string[] {
  const count = (n: number) => n.toLocaleString('en-US');
  const perSession = (before: number, after: number) => kibibytes(d.sessionsOpen > 0 ? (after - before) / d.sessionsOpen : undefined);
  const rss = [
    ['runner', bytes(d.runnerRssBeforeBytes), bytes(d.runnerRssAfterBytes), perSession(d.runnerRssBeforeBytes, d.runnerRssAfterBytes)],
    ['edge', bytes(d.edgeRssBeforeBytes), bytes(d.edgeRssAfterBytes), perSession(d.edgeRssBeforeBytes, d.edgeRssAfterBytes)],
  ];
  const openSec = Number.isFinite(d.openSec) ? `${d.openSec.toFixed(1)} s` : '—';
  return [
    'One runner (edge, auth and runner as separate processes over NATS) with the awk server as the backend, a process ' +
      `per session. ${count(d.sessionsOpen)} of ${count(d.sessionsAsked)} sessions opened (\`initialize\` and ` +
      `\`initialized\` over plain HTTP, 16 at a time) in ${openSec}, after a warm-up of a few; RSS is the process's own ` +
      '(backends excluded), settled, before and after opening them, divided by the sessions open. ' +
      `The runner then held ${count(d.runnerOpenFiles)} file descriptors (limit ${count(d.runnerOpenFilesLimit)}): ` +
      "three pipes per session's backend.",
    table(COLUMNS, rss),
    `With every session still open, ${count(d.echo.callers)} of them called \`echo\` in a loop, ${count(d.echo.calls)} ` +
      `calls in all: p50 ${milliseconds(d.echo.p50Ms)} ms, p99 ${milliseconds(d.echo.p99Ms)} ms.`,
  ];
}
