import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { REPO_ROOT } from '#testing';
import { CHART_FILE, renderReport } from '../report.js';
import { parseBenchResults } from './bench-results.schema.js';

/** Rebuilds docs/benchmarks.md and its chart from a results file, with bench/notes.md as "Where the time goes". */
export function writeReport(resultsFile: string): void {
  const resultsPath = resolve(resultsFile);
  const results = parseBenchResults(readFileSync(resultsPath, 'utf8'), resultsFile);
  const notesPath = join(REPO_ROOT, 'bench/notes.md');
  // Notes are optional: a run before anyone has profiled still gets a page.
  const notes = existsSync(notesPath) ? readFileSync(notesPath, 'utf8') : '';
  const { markdown, svg } = renderReport(results, notes, relative(REPO_ROOT, resultsPath).split(sep).join('/'));
  writeFileSync(join(REPO_ROOT, 'docs/benchmarks.md'), markdown);
  writeFileSync(join(REPO_ROOT, 'docs', CHART_FILE), svg);
}
