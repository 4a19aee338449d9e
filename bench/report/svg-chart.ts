/** A hand-written SVG line chart: panels side by side sharing categorical x values, one legend below. No dependencies. */
import { linearScale, type LinearScale } from './chart-scale.js';

export interface ChartSeries {
  label: string;
  colour: string;
  dashed: boolean;
  /** A dotted line (wins over `dashed`). */
  dotted?: boolean;
  marker: 'circle' | 'square' | 'diamond';
}

export interface ChartPanel {
  title: string;
  yLabel: string;
  /** values[series][category]; undefined (or non-finite) where the series has no point there. */
  values: (number | undefined)[][];
  /** A point's value in its tooltip: "1.84 ms". */
  describe: (value: number) => string;
}

export interface Chart {
  title: string;
  xLabel: string;
  /** The x values, evenly spaced whatever their magnitude. */
  categories: string[];
  series: ChartSeries[];
  panels: ChartPanel[];
}

const WIDTH = 960;
const PLOT_TOP = 76;
const PLOT_BOTTOM = 326;
const PLOT_LEFT_MARGIN = 70;
const PLOT_RIGHT_MARGIN = 24;
const LEGEND_TOP = PLOT_BOTTOM + 72;
const LEGEND_COLUMNS = 4;
const LEGEND_ROW = 22;
const INK = '#222222';
const GRID = '#dddddd';

/** Text and attribute values safe inside XML. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function renderChart(chart: Chart): string {
  const height = LEGEND_TOP + Math.ceil(chart.series.length / LEGEND_COLUMNS) * LEGEND_ROW + 6;
  const panelWidth = WIDTH / Math.max(1, chart.panels.length);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="sans-serif" font-size="12" fill="${INK}" role="img" aria-labelledby="chart-title">`,
    `<title id="chart-title">${escapeXml(chart.title)}</title>`,
    // An opaque background keeps the dark text readable on GitHub's dark theme.
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`,
    ...chart.panels.map((panel, i) => renderPanel(chart, panel, i * panelWidth, panelWidth)),
    renderLegend(chart.series),
    '</svg>',
    '',
  ].join('\n');
}

interface PlotArea {
  left: number;
  right: number;
  scale: LinearScale;
  categories: number;
}

function renderPanel(chart: Chart, panel: ChartPanel, offset: number, width: number): string {
  const known = panel.values.flat().filter((v): v is number => v !== undefined && Number.isFinite(v));
  const area: PlotArea = {
    left: offset + PLOT_LEFT_MARGIN,
    right: offset + width - PLOT_RIGHT_MARGIN,
    scale: linearScale(Math.max(0, ...known)),
    categories: chart.categories.length,
  };
  const middle = (area.left + area.right) / 2;
  const series = chart.series.map((s, i) => renderSeries(chart, s, panel, panel.values[i] ?? [], area));
  return [
    `<g class="panel">`,
    `<text x="${middle}" y="56" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`,
    ...yAxis(panel, area),
    ...xAxis(chart, area),
    ...series,
    `</g>`,
  ].join('\n');
}

function yAxis(panel: ChartPanel, area: PlotArea): string[] {
  const lines = area.scale.ticks.map((tick) => {
    const y = yOf(tick, area).toFixed(1);
    return (
      `<line x1="${area.left}" y1="${y}" x2="${area.right}" y2="${y}" stroke="${GRID}" stroke-width="1"/>` +
      `<text x="${area.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(area.scale.label(tick))}</text>`
    );
  });
  const centre = (PLOT_TOP + PLOT_BOTTOM) / 2;
  const labelX = area.left - PLOT_LEFT_MARGIN + 16;
  return [
    ...lines,
    `<line x1="${area.left}" y1="${PLOT_TOP}" x2="${area.left}" y2="${PLOT_BOTTOM}" stroke="${INK}" stroke-width="1"/>`,
    `<text x="${labelX}" y="${centre}" text-anchor="middle" transform="rotate(-90 ${labelX} ${centre})">${escapeXml(panel.yLabel)}</text>`,
  ];
}

function xAxis(chart: Chart, area: PlotArea): string[] {
  const ticks = chart.categories.map((category, i) => {
    const x = xOf(i, area).toFixed(1);
    return (
      `<line x1="${x}" y1="${PLOT_BOTTOM}" x2="${x}" y2="${PLOT_BOTTOM + 5}" stroke="${INK}" stroke-width="1"/>` +
      `<text x="${x}" y="${PLOT_BOTTOM + 20}" text-anchor="middle">${escapeXml(category)}</text>`
    );
  });
  return [
    `<line x1="${area.left}" y1="${PLOT_BOTTOM}" x2="${area.right}" y2="${PLOT_BOTTOM}" stroke="${INK}" stroke-width="1"/>`,
    ...ticks,
    `<text x="${(area.left + area.right) / 2}" y="${PLOT_BOTTOM + 44}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
  ];
}

function renderSeries(chart: Chart, series: ChartSeries, panel: ChartPanel, values: (number | undefined)[], area: PlotArea): string {
  const points = chart.categories.map((category, i) => {
    const value = values[i];
    return value !== undefined && Number.isFinite(value) ? { category, value, x: xOf(i, area), y: yOf(value, area) } : undefined;
  });
  const dash = dashArray(series);
  // A missing point breaks the line rather than joining its neighbours across the gap.
  const lines = runs(points).map(
    (run) =>
      `<polyline points="${run.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}" fill="none" ` +
      `stroke="${series.colour}" stroke-width="2"${dash}/>`,
  );
  const markers = points.flatMap((p) =>
    p === undefined ? [] : [marker(series, p.x, p.y, `${series.label}, ${p.category}: ${panel.describe(p.value)}`)],
  );
  return [`<g class="series">`, ...lines, ...markers, `</g>`].join('\n');
}

function runs<T>(points: (T | undefined)[]): T[][] {
  const result: T[][] = [[]];
  for (const point of points) {
    if (point === undefined) result.push([]);
    else result[result.length - 1]?.push(point);
  }
  return result.filter((run) => run.length > 1);
}

function marker(series: ChartSeries, x: number, y: number, tooltip: string): string {
  const title = tooltip === '' ? '' : `<title>${escapeXml(tooltip)}</title>`;
  const paint = `fill="${series.colour}" stroke="#ffffff" stroke-width="1"`;
  if (series.marker === 'diamond') {
    const corners: [number, number][] = [
      [x, y - 5.5],
      [x + 5.5, y],
      [x, y + 5.5],
      [x - 5.5, y],
    ];
    const points = corners.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
    return `<polygon points="${points}" ${paint}>${title}</polygon>`;
  }
  if (series.marker === 'square') {
    return `<rect x="${(x - 4).toFixed(1)}" y="${(y - 4).toFixed(1)}" width="8" height="8" ${paint}>${title}</rect>`;
  }
  return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5" ${paint}>${title}</circle>`;
}

function dashArray(series: ChartSeries): string {
  if (series.dotted === true) return ' stroke-dasharray="2 3"';
  return series.dashed ? ' stroke-dasharray="6 4"' : '';
}

function renderLegend(series: ChartSeries[]): string {
  const columnWidth = (WIDTH - 80) / LEGEND_COLUMNS;
  const entries = series.map((s, i) => {
    const x = 40 + (i % LEGEND_COLUMNS) * columnWidth;
    const y = LEGEND_TOP + Math.floor(i / LEGEND_COLUMNS) * LEGEND_ROW;
    const dash = dashArray(s);
    return [
      `<line x1="${x}" y1="${y}" x2="${x + 28}" y2="${y}" stroke="${s.colour}" stroke-width="2"${dash}/>`,
      marker(s, x + 14, y, ''),
      `<text x="${x + 36}" y="${y}" dominant-baseline="middle">${escapeXml(s.label)}</text>`,
    ].join('');
  });
  return [`<g class="legend">`, ...entries, `</g>`].join('\n');
}

function xOf(index: number, area: PlotArea): number {
  return area.left + ((index + 0.5) * (area.right - area.left)) / Math.max(1, area.categories);
}

function yOf(value: number, area: PlotArea): number {
  return PLOT_BOTTOM - (value / area.scale.top) * (PLOT_BOTTOM - PLOT_TOP);
}
