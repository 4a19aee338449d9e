/** "Against the baseline": every figure the 2026-11-26 run measured against this run's, and how far repeated runs move it. */
import type { BenchResults } from '../lib/results.js';
import { runTime } from './format.js';
import { table, type Column } from './markdown-table.js';

const COLUMNS: Column[] = [
  { header: 'figure' },
  { header: 'baseline', align: 'right' },
  { header: 'this run', align: 'right' },
  { header: 'change' },
  { header: 'noise' },
  { header: 'beyond noise?' },
];

export function baselineSection({ againstBaseline }: BenchResults): string {
  if (againstBaseline === undefined) return ['## Against the baseline', '_Not compared in this run._'].join('\n\n');
  const { file, startedAt, comparisons } = againstBaseline;
  const rows = comparisons.map((c) => [c.measure, c.baseline, c.current, c.change, c.noise, c.beyondNoise ? '❌ yes' : 'no']);
  return [
    '## Against the baseline',
    `Every figure that the run of ${runTime(startedAt)} (\`${file}\`) measured, against this run's. The host's speed ` +
      'moves by more than half from one run to another, so a figure that depends on it is compared as a ratio to ' +
      'something the same run measured with code that did not change between the two: a round trip to the geometric ' +
      "mean of the two peers' at its concurrency, a session start to the direct spawn of the same backend. Memory is " +
      'compared as it is, and token checks too (the baseline measured nothing beside them to divide by). The noise is ' +
      'how far the same figure moved between repeated runs without a change of its own (bench/baseline.ts says from ' +
      'which runs); a change beyond it is a miss.',
    comparisons.length > 0 ? table(COLUMNS, rows) : '_The baseline measured nothing this run measures._',
  ].join('\n\n');
}
