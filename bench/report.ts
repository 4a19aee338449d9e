/** One benchmark run's results → docs/benchmarks.md and its chart. Pure: bench/render-report.ts does the file I/O. */
import type { BenchResults } from './lib/results.js';
import { renderLatencyChart } from './report/latency-chart.js';
import { renderMarkdown } from './report/markdown.js';

export { CHART_FILE } from './report/round-trip-section.js';

/**
 * The page and its SVG chart. `notes` (bench/notes.md, profiling findings written by people) goes in verbatim;
 * `resultsFile` is the raw JSON's path from the repository root, linked from the page.
 */
export function renderReport(
  results: BenchResults,
  notes: string,
  resultsFile = defaultResultsFile(results),
): { markdown: string; svg: string } {
  return { markdown: renderMarkdown(results, notes, resultsFile), svg: renderLatencyChart(results.roundTrip) };
}

/** bench/results/<date>.json, the date being the day the run started. */
export function defaultResultsFile(results: BenchResults): string {
  return `bench/results/${results.startedAt.slice(0, 10)}.json`;
}
