/**
 * Rebuilds docs/benchmarks.md and docs/benchmarks-latency.svg from a results file, without measuring again:
 *   node dist/bench/render-report.js bench/results/<date>.json
 */
import { CHART_FILE } from './report.js';
import { writeReport } from './report/write-report.js';

const [input] = process.argv.slice(2);
try {
  if (input === undefined) throw new Error('usage: node dist/bench/render-report.js bench/results/<date>.json');
  writeReport(input);
  console.log(`wrote docs/benchmarks.md and docs/${CHART_FILE} from ${input}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
