/** The round-trip chart of docs/benchmarks.md: p50 latency and calls/s against concurrency, one series per (target, auth). */
import type { RoundTripRow, TargetName } from '../lib/results.js';
import { concurrencies, roundTripSeries, type RoundTripSeries } from './round-trip-series.js';
import { renderChart, type ChartSeries } from './svg-chart.js';

/**
 * One colour per target (Okabe–Ito, told apart with colour-blindness too); JWT callers dashed with
 * square markers; 2026-07-28 stateless calls dotted with diamond markers.
 */
const COLOURS: Record<TargetName, string> = {
  direct: '#555555',
  'http floor': '#56B4E9',
  'relay floor': '#999999',
  'nats relay floor': '#F0E442',
  'gatehouse serve': '#0072B2',
  'gatehouse nats': '#009E73',
  supergateway: '#E69F00',
  'mcp-proxy': '#CC79A7',
};

export function renderLatencyChart(rows: readonly RoundTripRow[]): string {
  const series = roundTripSeries(rows);
  const levels = concurrencies(rows);
  const values = (pick: (row: RoundTripRow) => number) => series.map((s) => levels.map((c) => valueAt(s, c, pick)));
  return renderChart({
    title: 'Round trip of a tool call against concurrency',
    xLabel: 'concurrent sessions',
    categories: levels.map(String),
    series: series.map(style),
    panels: [
      { title: 'p50 latency', yLabel: 'p50 latency (ms)', values: values((r) => r.p50Ms), describe: (v) => `${v.toFixed(2)} ms` },
      { title: 'Throughput', yLabel: 'calls/s', values: values((r) => r.callsPerSec), describe: (v) => `${Math.round(v)} calls/s` },
    ],
  });
}

function valueAt(series: RoundTripSeries, concurrency: number, pick: (row: RoundTripRow) => number): number | undefined {
  const row = series.byConcurrency.get(concurrency);
  return row === undefined ? undefined : pick(row);
}

function style(series: RoundTripSeries): ChartSeries {
  const colour = COLOURS[series.target];
  if (series.protocol !== undefined) return { label: series.label, colour, dashed: false, dotted: true, marker: 'diamond' };
  const jwt = series.auth === 'jwt';
  return { label: series.label, colour, dashed: jwt, marker: jwt ? 'square' : 'circle' };
}
