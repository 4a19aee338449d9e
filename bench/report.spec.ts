import type { BenchResults, RoundTripRow } from './lib/results.js';
import { defaultResultsFile, renderReport } from './report.js';
import { parseBenchResults } from './report/bench-results.schema.js';
import { linearScale } from './report/chart-scale.js';
import { renderChart } from './report/svg-chart.js';
import { elements, parseXml, textOf } from './report/xml-document.fixture.js';

function trip(
  target: RoundTripRow['target'],
  auth: RoundTripRow['auth'],
  concurrency: number,
  p50Ms: number,
  callsPerSec: number,
): RoundTripRow {
  return { target, auth, concurrency, calls: 1000, p50Ms, p95Ms: p50Ms * 2, p99Ms: p50Ms * 3, callsPerSec };
}

function sample(): BenchResults {
  return {
    startedAt: '2026-05-02T09:14:07.512Z',
    durationSec: 754,
    machine: { cpuModel: 'Test CPU', cores: 2, memoryGiB: 7.76, os: 'Linux', node: 'v20.20.2' },
    versions: { gatehouse: '0.1.0', supergateway: '4.0.0' },
    roundTrip: [
      trip('direct', 'none', 1, 0.5, 1000),
      trip('gatehouse serve', 'bearer', 1, 2.0, 250),
      trip('gatehouse serve', 'jwt', 1, 2.2, 240),
      trip('supergateway', 'none', 1, 1.6, 200),
      trip('mcp-proxy', 'none', 1, 1.8, 125),
      trip('direct', 'none', 16, 1.5, 4000),
      trip('gatehouse serve', 'bearer', 16, 6.0, 1000),
      // gatehouse serve (jwt) and mcp-proxy were not measured at 16 sessions.
      trip('supergateway', 'none', 16, 7.5, 800),
    ],
    sessionStart: [
      { target: 'direct', backend: 'node echo server', samples: 20, p50Ms: 100, p95Ms: 120 },
      { target: 'gatehouse serve', backend: 'node echo server', samples: 20, p50Ms: 112.5, p95Ms: 140 },
      { target: 'direct', backend: 'awk server', samples: 20, p50Ms: 4, p95Ms: 6 },
      { target: 'gatehouse serve', backend: 'awk server', samples: 20, p50Ms: 9, p95Ms: 12 },
    ],
    memory: {
      perSession: [
        { process: 'runner', sessions: 100, rssBeforeBytes: 70 * 1048576, rssAfterBytes: 90 * 1048576, perSessionBytes: 204800 },
      ],
      idleStreams: [{ kind: 'legacy SSE', streams: 1000, edgeRssBeforeBytes: 80 * 1048576, edgeRssAfterBytes: 80 * 1048576 + 12_288_000 }],
    },
    tokenChecks: { cachedPerSec: 1234567.8, firstSightPerSec: 6843.2 },
    targets: [
      { name: 'added p50 | one session', target: '≤ 0.5 ms', figure: '1.50 ms', met: false },
      { name: 'calls/s vs <b>supergateway</b>', target: '≥ 1.0×', figure: '1.25×', met: true },
    ],
  };
}

/** The cells of the first table row under `heading` whose leading cells are `key`. */
function row(markdown: string, heading: string, ...key: string[]): string[] {
  const start = markdown.indexOf(`\n${heading}\n`);
  expect(start).toBeGreaterThan(-1);
  const section = markdown.slice(start + heading.length + 2).split(/\n#/)[0] ?? '';
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  const found = rows.find((cells) => key.every((k, i) => cells[i] === k));
  if (found === undefined) throw new Error(`no row ${key.join(' | ')} under ${heading}`);
  return found;
}

describe('renderReport: the page', () => {
  const { markdown } = renderReport(sample(), '### Edge\n\nJSON parsing takes **31 %**.\n');

  it('sets each row against the direct floor and, for Gatehouse rows, against each peer', () => {
    // target | auth | p50 | p95 | p99 | calls/s | p50 ÷ direct | calls/s ÷ direct | × supergateway | × mcp-proxy
    expect(row(markdown, '### 1 session', 'gatehouse serve', 'bearer')).toEqual([
      'gatehouse serve',
      'bearer',
      '2.00',
      '4.00',
      '6.00',
      '250',
      '4.00×',
      '0.25×',
      '1.25×',
      '2.00×',
    ]);
    expect(row(markdown, '### 1 session', 'direct', 'none').slice(6)).toEqual(['1.00×', '1.00×', '—', '—']);
    expect(row(markdown, '### 1 session', 'supergateway', 'none').slice(6)).toEqual(['3.20×', '0.20×', '—', '—']);
  });

  it('shows a series missing at one concurrency, and a ratio against a missing peer, as "—"', () => {
    expect(row(markdown, '### 16 concurrent sessions', 'gatehouse serve', 'jwt').slice(2)).toEqual(Array(8).fill('—'));
    expect(row(markdown, '### 16 concurrent sessions', 'mcp-proxy', 'none').slice(2)).toEqual(Array(8).fill('—'));
    expect(row(markdown, '### 16 concurrent sessions', 'gatehouse serve', 'bearer').slice(6)).toEqual(['4.00×', '0.25×', '1.25×', '—']);
    expect(markdown).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('writes "—", not NaN or Infinity, when the direct floor is zero or absent', () => {
    const results = sample();
    results.roundTrip = results.roundTrip.filter((r) => r.target !== 'direct' || r.concurrency !== 16);
    results.roundTrip[0] = trip('direct', 'none', 1, 0, 0);
    results.sessionStart = results.sessionStart.filter((r) => r.target !== 'direct');
    results.roundTrip[2] = { ...trip('gatehouse serve', 'jwt', 1, 2.2, 240), p99Ms: Number.NaN, callsPerSec: Number.POSITIVE_INFINITY };
    const page = renderReport(results, '').markdown;
    expect(row(page, '### 1 session', 'gatehouse serve', 'jwt').slice(2)).toEqual(['2.20', '4.40', '—', '—', '—', '—', '—', '—']);
    expect(row(page, '### 1 session', 'gatehouse serve', 'bearer').slice(6, 8)).toEqual(['—', '—']);
    expect(row(page, '### 16 concurrent sessions', 'gatehouse serve', 'bearer').slice(6, 8)).toEqual(['—', '—']);
    expect(row(page, '## Session start', 'node echo server', 'gatehouse serve')).toEqual([
      'node echo server',
      'gatehouse serve',
      '20',
      '112.50',
      '140.00',
      '—',
    ]);
    expect(page).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('marks each target met or missed, escaping what would break the table', () => {
    expect(row(markdown, '## Targets', 'added p50 \\| one session')).toEqual([
      'added p50 \\| one session',
      '≤ 0.5 ms',
      '1.50 ms',
      '❌ missed',
    ]);
    expect(row(markdown, '## Targets', 'calls/s vs &lt;b&gt;supergateway&lt;/b&gt;')[3]).toBe('✅ met');
    expect(markdown).not.toContain('<b>');
  });

  it('writes session start against direct, memory in KiB/MiB, and token checks as whole numbers', () => {
    expect(row(markdown, '## Session start', 'node echo server', 'gatehouse serve')).toEqual([
      'node echo server',
      'gatehouse serve',
      '20',
      '112.50',
      '140.00',
      '+12.50',
    ]);
    expect(row(markdown, '## Session start', 'awk server', 'gatehouse serve')).toEqual([
      'awk server',
      'gatehouse serve',
      '20',
      '9.00',
      '12.00',
      '+5.00',
    ]);
    expect(row(markdown, '### Per session', 'runner')).toEqual(['runner', '100', '70.0 MiB', '90.0 MiB', '200.0 KiB']);
    expect(row(markdown, '### Idle streams', 'legacy SSE')).toEqual(['legacy SSE', '1000', '80.0 MiB', '91.7 MiB', '12.0 KiB']);
    expect(row(markdown, '## Token checks', 'token seen before (cached)')[1]).toBe('1,234,568');
    expect(row(markdown, '## Token checks', 'first sight (full signature check)')[1]).toBe('6,843');
    expect(markdown).not.toContain("node:crypto's ES256 verify alone");
  });

  it("shows node:crypto's verify alone under the token checks when the run measured it", () => {
    const results = sample();
    results.tokenChecks = { ...results.tokenChecks, signatureOnlyPerSec: 11_000.4 };
    const page = renderReport(results, '').markdown;
    const ceiling = "node:crypto's ES256 verify alone (no parsing, no claims): the ceiling of a first sight";
    expect(row(page, '## Token checks', ceiling)[1]).toBe('11,000');
  });

  it('puts the sections in order, the notes verbatim, the chart and a link to the raw results', () => {
    const headings = markdown.split('\n').filter((line) => /^##? /.test(line));
    expect(headings).toEqual([
      '# Benchmarks',
      '## Machine',
      '## Versions',
      '## The floor',
      '## Targets',
      '## Round trip of a tool call',
      '## The tail at 64 sessions, in turns',
      '## Calls/s with the gateway on one core',
      '## Round trip to a remote server',
      '## Session start',
      '## Memory',
      '## Density',
      '## Token checks',
      '## Against the baseline',
      '## Where the time goes',
      '## Running it',
    ]);
    expect(markdown).toContain('## Where the time goes\n\n### Edge\n\nJSON parsing takes **31 %**.\n\n## Running it');
    expect(markdown).toContain('![p50 latency against concurrency](benchmarks-latency.svg)');
    expect(markdown).toContain('Run started 2026-05-02 09:14 UTC and took 12 min 34 s.');
    expect(markdown).toContain('[bench/results/2026-05-02.json](../bench/results/2026-05-02.json)');
    expect(defaultResultsFile(sample())).toBe('bench/results/2026-05-02.json');
    expect(renderReport(sample(), '', 'bench/results/run 7.json').markdown).toContain('(../bench/results/run%207.json)');
  });
});

describe('renderReport: the remote rows', () => {
  it('sets each remote row against the SDK client calling the server straight', () => {
    const results = {
      ...sample(),
      remoteRoundTrip: [
        trip('direct', 'none', 1, 1.2, 800),
        trip('gatehouse serve', 'bearer', 1, 2.0, 500),
        trip('gatehouse nats', 'bearer', 1, 3.0, 330),
        trip('direct', 'none', 16, 4.0, 4000),
        trip('gatehouse serve', 'bearer', 16, 8.0, 2000),
      ],
    };
    const page = renderReport(results, '').markdown;
    // target | auth | p50 | p95 | p99 | calls/s | p50 − direct | calls/s ÷ direct
    expect(row(page, '### Remote: 1 session', 'gatehouse serve', 'bearer')).toEqual([
      'gatehouse serve',
      'bearer',
      '2.00',
      '4.00',
      '6.00',
      '500',
      '+0.80',
      '0.63×',
    ]);
    expect(row(page, '### Remote: 1 session', 'direct', 'none').slice(6)).toEqual(['0.00', '1.00×']);
    expect(row(page, '### Remote: 16 concurrent sessions', 'gatehouse nats', 'bearer').slice(2)).toEqual(Array(6).fill('—'));
    expect(page).not.toMatch(/NaN|Infinity|undefined/);
    expect(parseBenchResults(JSON.stringify(results), 'remote.json')).toEqual(results);
  });

  it('says so when a run (an older one) measured no remote rows', () => {
    expect(renderReport(sample(), '').markdown).toContain('## Round trip to a remote server\n\n');
    expect(renderReport(sample(), '').markdown).toContain('_Remote round trips were not measured in this run._');
  });
});

describe('renderReport: the 2026-07-28 rows', () => {
  function withModern(): BenchResults {
    const results = sample();
    results.roundTrip.push(
      { ...trip('gatehouse serve', 'bearer', 1, 2.5, 200), protocol: '2026-07-28' },
      { ...trip('gatehouse serve', 'bearer', 16, 5.0, 1600), protocol: '2026-07-28' },
    );
    results.poolStart = [
      { target: 'gatehouse serve', start: '2025 session', samples: 15, ...figures(250, 270, 260, 280) },
      { target: 'gatehouse serve', start: '2026 warm pool', samples: 15, ...figures(4, 6, 6.5, 9) },
      { target: 'gatehouse serve', start: '2026 cold pool', samples: 15, ...figures(255, 290, 265, 300) },
    ];
    return results;
  }

  function figures(answer: number, answer95: number, call: number, call95: number) {
    return { firstAnswerP50Ms: answer, firstAnswerP95Ms: answer95, firstCallP50Ms: call, firstCallP95Ms: call95 };
  }

  const results = withModern();
  const page = renderReport(results, '').markdown;

  it('puts a 2026-07-28 row beside the 2025 rows of its target, against the same direct floor and peers', () => {
    // target | auth | p50 | p95 | p99 | calls/s | p50 ÷ direct | calls/s ÷ direct | × supergateway | × mcp-proxy
    expect(row(page, '### 1 session', 'gatehouse serve', 'bearer, 2026-07-28')).toEqual([
      'gatehouse serve',
      'bearer, 2026-07-28',
      '2.50',
      '5.00',
      '7.50',
      '200',
      '5.00×',
      '0.20×',
      '1.00×',
      '1.60×',
    ]);
    expect(row(page, '### 16 concurrent sessions', 'gatehouse serve', 'bearer, 2026-07-28').slice(6)).toEqual([
      '3.33×',
      '0.40×',
      '2.00×',
      '—',
    ]);
    // The 2025 row keeps its own figures: the 2026 row never stands in for it.
    expect(row(page, '### 1 session', 'gatehouse serve', 'bearer')[2]).toBe('2.00');
    const labels = page.split('\n').filter((line) => line.startsWith('| gatehouse serve'));
    expect(labels.slice(0, 3).map((line) => line.split('|')[2]?.trim())).toEqual(['bearer', 'jwt', 'bearer, 2026-07-28']);
  });

  it('shows a new client on a warm and a cold pool against a 2025 session', () => {
    const heading = '### 2026-07-28: warm pool against cold spawn';
    // target | client | first request | samples | first answer p50 | p95 | first echo p50 | p95 | first echo ÷ 2025
    expect(row(page, heading, 'gatehouse serve', '2026 warm pool')).toEqual([
      'gatehouse serve',
      '2026 warm pool',
      '`server/discover`',
      '15',
      '4.00',
      '6.00',
      '6.50',
      '9.00',
      '0.03×',
    ]);
    expect(row(page, heading, 'gatehouse serve', '2025 session').slice(2)).toEqual([
      '`initialize`',
      '15',
      '250.00',
      '270.00',
      '260.00',
      '280.00',
      '1.00×',
    ]);
    expect(row(page, heading, 'gatehouse serve', '2026 cold pool').at(-1)).toBe('1.02×');
    expect(page).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('reads the new fields back, and a run without them (an older one) still renders', () => {
    expect(parseBenchResults(JSON.stringify(results), 'modern.json')).toEqual(results);
    const older = renderReport(sample(), '').markdown;
    expect(older).not.toContain('warm pool against cold spawn');
    expect(older).not.toContain('bearer, 2026-07-28 |');
  });

  it('draws the 2026-07-28 series dotted, with diamond markers, after the 2025 series of its target', () => {
    const all = elements(parseXml(renderReport(results, '').svg));
    const legend = all.find((e) => e.attributes.get('class') === 'legend');
    const labels = (legend === undefined ? [] : elements(legend)).filter((e) => e.name === 'text').map(textOf);
    expect(labels).toEqual([
      'direct',
      'gatehouse serve (bearer)',
      'gatehouse serve (jwt)',
      'gatehouse serve (bearer, 2026-07-28)',
      'supergateway',
      'mcp-proxy',
    ]);
    const diamonds = all.filter((e) => e.name === 'polygon').map((e) => textOf(e));
    expect(diamonds).toContain('gatehouse serve (bearer, 2026-07-28), 16: 5.00 ms');
  });
});

describe('renderReport: the floor, the pinned rows and density', () => {
  const PER_CORE: Record<string, number> = {
    'http floor 16': 17_000,
    'relay floor 16': 5000,
    'nats relay floor 16': 3200,
    'gatehouse serve 16': 4000,
    'gatehouse nats 16': 1600,
    'supergateway 16': 1000,
    'mcp-proxy 16': 2000,
    'gatehouse serve 64': 2500,
    'supergateway 64': 1000,
  };

  function withIssue13(): BenchResults {
    const results = sample();
    results.roundTrip.push(
      trip('http floor', 'none', 1, 0.6, 1500),
      trip('http floor', 'none', 16, 10, 1600),
      trip('gatehouse nats', 'jwt', 1, 3.0, 300),
    );
    results.pinnedRoundTrip = {
      gatewayCpu: 0,
      loadCpu: 1,
      load: { client: 'node:http', backend: 'awk server' },
      turns: { warmupMs: 4000, rounds: 4, windowMs: 2000, settleMs: 1200 },
      rows: [
        trip('http floor', 'none', 16, 9, 1700),
        trip('relay floor', 'none', 16, 9, 1600),
        trip('nats relay floor', 'none', 16, 12, 1400),
        trip('gatehouse serve', 'jwt', 16, 10, 1500),
        trip('gatehouse nats', 'jwt', 16, 20, 800),
        trip('supergateway', 'none', 16, 30, 500),
        trip('mcp-proxy', 'none', 16, 20, 1000),
        trip('gatehouse serve', 'jwt', 64, 40, 1200),
        trip('supergateway', 'none', 64, 130, 480),
        // Calls per gateway core-second, unlike calls/s (the clients' limit): 1,000 calls over these CPU seconds.
      ].map((r) => ({ ...r, gatewayCpuMs: (1000 * r.calls) / PER_CORE[`${r.target} ${r.concurrency}`], gatewayCoreBusy: 0.974 })),
    };
    results.density = {
      sessionsAsked: 5000,
      sessionsOpen: 4000,
      openSec: 41.25,
      runnerRssBeforeBytes: 100 * 1048576,
      runnerRssAfterBytes: 100 * 1048576 + 4000 * 8192,
      edgeRssBeforeBytes: 90 * 1048576,
      edgeRssAfterBytes: 90 * 1048576 + 4000 * 20480,
      runnerOpenFiles: 12_020,
      runnerOpenFilesLimit: 20_000,
      echo: { callers: 16, calls: 5120, p50Ms: 12.5, p99Ms: 48.25 },
    };
    return results;
  }

  const results = withIssue13();
  const page = renderReport(results, '').markdown;

  it('shows the floor, the sum of the HTTP floor and direct, and each Gatehouse p50 above it', () => {
    // path | p50, 1 session | over the floor
    expect(row(page, '## The floor', 'floor: their sum')).toEqual(['floor: their sum', '1.10', '']);
    expect(row(page, '## The floor', 'gatehouse serve (jwt)')).toEqual(['gatehouse serve (jwt)', '2.20', '+1.10']);
    expect(row(page, '## The floor', 'gatehouse nats (jwt)')).toEqual(['gatehouse nats (jwt)', '3.00', '+1.90']);
    expect(page.indexOf('## The floor')).toBeLessThan(page.indexOf('## Targets'));
  });

  it('says each path was measured on its own when the run has no rows measured in turns', () => {
    expect(page).toContain('Each path was measured on its own, one after another.');
    expect(page).not.toContain('relay floor: one process');
  });

  it('takes the floor from the one-session rows measured in turns when the run has them, with the relay floors', () => {
    const inTurns: BenchResults = {
      ...results,
      oneSession: {
        turns: { warmupMs: 6000, rounds: 6, windowMs: 2000 },
        rows: [
          trip('direct', 'none', 1, 0.25, 3000),
          trip('http floor', 'none', 1, 0.8, 1100),
          trip('relay floor', 'none', 1, 1.0, 950),
          trip('nats relay floor', 'none', 1, 1.6, 600),
          trip('gatehouse serve', 'jwt', 1, 1.3, 750),
          trip('gatehouse nats', 'jwt', 1, 2.2, 450),
        ],
      },
    };
    const turnsPage = renderReport(inTurns, '').markdown;
    expect(row(turnsPage, '## The floor', 'floor: their sum')).toEqual(['floor: their sum', '1.05', '']);
    const relay = 'relay floor: one process relaying each line to a backend of its own (`serve`’s design, none of its work)';
    expect(row(turnsPage, '## The floor', relay).slice(1)).toEqual(['1.00', '-0.05']);
    const natsRelay = 'nats relay floor: the same as an edge and a runner over NATS (the distributed design)';
    expect(row(turnsPage, '## The floor', natsRelay).slice(1)).toEqual(['1.60', '+0.55']);
    expect(row(turnsPage, '## The floor', 'gatehouse serve (jwt)')).toEqual(['gatehouse serve (jwt)', '1.30', '+0.25']);
    expect(row(turnsPage, '## The floor', 'gatehouse nats (jwt)')).toEqual(['gatehouse nats (jwt)', '2.20', '+1.15']);
    expect(turnsPage).toContain('they called in turns, 2 s each, over 6 rounds (after 6 s of unmeasured calls each)');
    // The unpinned rows of the same run stay as they were measured.
    expect(row(turnsPage, '### 1 session', 'http floor', 'none').slice(2, 3)).toEqual(['0.60']);
  });

  it('says the tail at 64 sessions was not measured in turns when the run lacks those rows', () => {
    expect(page).toContain('_Not measured in this run: its p99 target judged the unpinned rows._');
  });

  it("shows the tail at 64 sessions measured in turns, each p99 against the better peer's", () => {
    const tail = (target: RoundTripRow['target'], auth: RoundTripRow['auth'], p99Ms: number) => ({
      ...trip(target, auth, 64, 60, 1000),
      p99Ms,
    });
    const turnsPage = renderReport(
      {
        ...results,
        tailLatency: {
          turns: { warmupMs: 4000, rounds: 6, windowMs: 3000 },
          rows: [
            tail('gatehouse serve', 'jwt', 120),
            tail('gatehouse nats', 'jwt', 165),
            tail('supergateway', 'none', 240),
            tail('mcp-proxy', 'none', 150),
          ],
        },
      },
      '',
    ).markdown;
    const heading = '## The tail at 64 sessions, in turns';
    // target | auth | sessions | p50 | p95 | p99 | calls/s | p99 ÷ the better peer's
    expect(row(turnsPage, heading, 'gatehouse serve', 'jwt')).toEqual([
      'gatehouse serve',
      'jwt',
      '64',
      '60.00',
      '120.00',
      '120.00',
      '1,000',
      '0.80×',
    ]);
    expect(row(turnsPage, heading, 'gatehouse nats', 'jwt').slice(5)).toEqual(['165.00', '1,000', '1.10×']);
    expect(row(turnsPage, heading, 'mcp-proxy', 'none').slice(5)).toEqual(['150.00', '1,000', '1.00×']);
    expect(turnsPage).toContain('they called in turns, 3 s each, over 6 rounds, after 4 s of unmeasured calls each');
    expect(turnsPage.indexOf(heading)).toBeGreaterThan(turnsPage.indexOf('## Round trip of a tool call'));
  });

  it('puts the HTTP floor in the unpinned tables, right after direct', () => {
    expect(row(page, '### 1 session', 'http floor', 'none').slice(2, 8)).toEqual(['0.60', '1.20', '1.80', '1,500', '1.20×', '1.50×']);
    const targets = page
      .slice(page.indexOf('### 1 session'))
      .split('\n')
      .filter((line) => line.startsWith('| '))
      .map((line) => line.split('|')[1]?.trim());
    expect(targets.slice(1, 3)).toEqual(['direct', 'http floor']);
  });

  it('sets each pinned Gatehouse row and relay floor against each peer and the better one, and Gatehouse against its relay floor, "—" where one is missing', () => {
    // target | auth | p50 | p99 | calls/s | gateway core busy | gateway CPU per call | calls per gateway core-second | × supergateway | × mcp-proxy | × better peer | × its relay floor
    expect(row(page, '### Pinned: 16 concurrent sessions', 'target')).toEqual([
      'target',
      'auth',
      'p50 (ms)',
      'p99 (ms)',
      'calls/s',
      'gateway core busy',
      'gateway CPU per call (µs)',
      'calls per gateway core-second',
      '× supergateway',
      '× mcp-proxy',
      '× better peer',
      '× its relay floor',
    ]);
    expect(row(page, '### Pinned: 16 concurrent sessions', 'gatehouse serve', 'jwt')).toEqual([
      'gatehouse serve',
      'jwt',
      '10.00',
      '30.00',
      '1,500',
      '97%',
      '250',
      '4,000',
      '4.00×',
      '2.00×',
      '2.00×',
      '0.80×',
    ]);
    expect(row(page, '### Pinned: 16 concurrent sessions', 'gatehouse nats', 'jwt').slice(8)).toEqual(['1.60×', '0.80×', '0.80×', '0.50×']);
    expect(row(page, '### Pinned: 16 concurrent sessions', 'relay floor', 'none').slice(8)).toEqual(['5.00×', '2.50×', '2.50×', '—']);
    expect(row(page, '### Pinned: 16 concurrent sessions', 'nats relay floor', 'none').slice(8)).toEqual(['3.20×', '1.60×', '1.60×', '—']);
    expect(row(page, '### Pinned: 16 concurrent sessions', 'http floor', 'none').slice(8)).toEqual(['—', '—', '—', '—']);
    // No relay floor measured at 64 sessions.
    expect(row(page, '### Pinned: 64 concurrent sessions', 'gatehouse serve', 'jwt').slice(8)).toEqual(['2.50×', '—', '—', '—']);
    const pinned16 = page.indexOf('### Pinned: 16');
    expect(page.indexOf('| relay floor', pinned16)).toBeGreaterThan(pinned16);
    expect(page.indexOf('| relay floor', pinned16)).toBeLessThan(page.indexOf('| gatehouse serve', pinned16));
    expect(page).toContain('pinned to core 0');
  });

  it('says how the pinned rows were measured: in turns with their rounds and windows, or one gateway after another in an older run', () => {
    expect(page).toContain('each gateway called for 2 s while the others waited');
    expect(page).toContain('4 rounds in which');
    expect(page).toContain('read 1.2 s after its window ended');
    expect(page).toContain('first called for 4 s, unmeasured');
    const older = { ...results, pinnedRoundTrip: { gatewayCpu: 0, loadCpu: 1, rows: results.pinnedRoundTrip?.rows ?? [] } };
    const olderPage = renderReport(older, '').markdown;
    expect(olderPage).toContain('Each gateway was started, measured and stopped after the one before it.');
    expect(olderPage).not.toContain('took turns');
  });

  it("says what the pinned load was: light enough to saturate the gateway's core, or (an older run) the SDK clients that saturated their own", () => {
    expect(page).toContain("Each session's client is node:http over a kept-alive connection of its own and each backend the awk server");
    expect(page).toContain("every gateway's core saturates before the load's");
    const pinned = results.pinnedRoundTrip ?? { gatewayCpu: 0, loadCpu: 1, rows: [] };
    const sdkLoad = { ...pinned, load: undefined };
    const olderPage = renderReport({ ...results, pinnedRoundTrip: sdkLoad }, '').markdown;
    expect(olderPage).toContain(
      "The load was the unpinned rows' (SDK clients, the Node.js echo server), and its core saturated before the gateway's",
    );
    expect(olderPage).not.toContain("Each session's client is");
  });

  it('shows density: RSS per open session of runner and edge, the sessions open, the time, the fds and echo', () => {
    expect(row(page, '## Density', 'runner')).toEqual(['runner', '100.0 MiB', '131.3 MiB', '8.0 KiB']);
    expect(row(page, '## Density', 'edge')).toEqual(['edge', '90.0 MiB', '168.1 MiB', '20.0 KiB']);
    expect(page).toContain('4,000 of 5,000 sessions opened');
    expect(page).toContain('in 41.3 s');
    expect(page).toContain('12,020 file descriptors (limit 20,000)');
    expect(page).toContain('16 of them called `echo` in a loop, 5,120 calls in all: p50 12.50 ms, p99 48.25 ms.');
    expect(page).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('reads the new sections back; an echo not measured goes out as null and comes back as "—"', () => {
    expect(parseBenchResults(JSON.stringify(results), 'issue-13.json')).toEqual(results);
    const density = results.density && { ...results.density, echo: { callers: 0, calls: 0, p50Ms: Number.NaN, p99Ms: Number.NaN } };
    const reread = parseBenchResults(JSON.stringify({ ...results, density }), 'no-echo.json');
    expect(renderReport(reread, '').markdown).toContain('p50 — ms, p99 — ms.');
  });

  it('says so when the pinned runs were skipped, and when a run (an older one) measured none of this', () => {
    const skipped = {
      ...results,
      pinnedRoundTrip: { gatewayCpu: 0, loadCpu: 1, skipped: 'taskset (util-linux) is not installed', rows: [] },
    };
    expect(renderReport(skipped, '').markdown).toContain('_Not measured in this run: taskset (util-linux) is not installed._');
    const older = renderReport(sample(), '').markdown;
    expect(older).toContain('## The floor');
    expect(older).toContain('_The HTTP floor was not measured in this run._');
    expect(older).toContain('## Calls/s with the gateway on one core\n\n_Not measured in this run._');
    expect(older).toContain('## Density\n\n_Not measured in this run._');
  });
});

describe('renderReport: the chart', () => {
  const { svg } = renderReport(sample(), '');
  const root = parseXml(svg);
  const all = elements(root);

  it('is a well-formed SVG with both panels and a sans-serif font', () => {
    expect(root.name).toBe('svg');
    expect(root.attributes.get('xmlns')).toBe('http://www.w3.org/2000/svg');
    expect(root.attributes.get('font-family')).toBe('sans-serif');
    const panelTitles = all.filter((e) => e.attributes.get('class') === 'panel').map((p) => textOf(p));
    expect(panelTitles).toEqual([expect.stringContaining('p50 latency'), expect.stringContaining('calls/s')]);
  });

  it('names every (target, auth) series in the legend', () => {
    const legend = all.find((e) => e.attributes.get('class') === 'legend');
    const labels = (legend === undefined ? [] : elements(legend)).filter((e) => e.name === 'text').map(textOf);
    expect(labels).toEqual(['direct', 'gatehouse serve (bearer)', 'gatehouse serve (jwt)', 'supergateway', 'mcp-proxy']);
  });

  it('marks only the points measured, with their values', () => {
    const tooltips = all.filter((e) => e.name === 'title').map(textOf);
    expect(tooltips.filter((t) => t.startsWith('mcp-proxy, '))).toEqual(['mcp-proxy, 1: 1.80 ms', 'mcp-proxy, 1: 125 calls/s']);
    expect(tooltips).toContain('gatehouse serve (bearer), 16: 6.00 ms');
    // The single jwt point has a marker but no line: there is nothing to join it to.
    const jwtLines = all.filter((e) => e.name === 'polyline' && e.attributes.get('stroke-dasharray') !== undefined);
    expect(jwtLines).toHaveLength(0);
  });

  it('escapes labels, so text that looks like markup stays text', () => {
    const label = 'a < b & "c" \'d\'';
    const chart = renderChart({
      title: 'T & <t>',
      xLabel: 'x',
      categories: ['1', '<2>'],
      series: [{ label, colour: '#000000', dashed: false, marker: 'circle' }],
      panels: [{ title: 'p', yLabel: 'y', values: [[1, 2]], describe: (v) => `${v} <ms>` }],
    });
    const texts = elements(parseXml(chart)).map(textOf);
    expect(texts).toContain(label);
    expect(texts).toContain('T & <t>');
    expect(texts).toContain(`${label}, <2>: 2 <ms>`);
  });
});

describe('parseXml (the spec fixture that checks well-formedness)', () => {
  it.each([
    ['crossed tags', '<a><b></a></b>'],
    ['an unclosed element', '<a><b/>'],
    ['an unquoted attribute', '<a x=1/>'],
    ['a repeated attribute', '<a x="1" x="2"/>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['an unknown entity', '<a>&nbsp;</a>'],
    ['a raw "<" in an attribute', '<a x="<"/>'],
    ['two roots', '<a/><b/>'],
  ])('rejects %s', (_what, text) => {
    expect(() => parseXml(text)).toThrow(/not well-formed XML/);
  });

  it('reads a well-formed document back', () => {
    const root = parseXml('<?xml version="1.0"?>\n<!-- c --><a k="&quot;v&quot;"><b>x &amp; y&#33;</b><c/></a>\n');
    expect(root.attributes.get('k')).toBe('"v"');
    expect(elements(root).map((e) => e.name)).toEqual(['a', 'b', 'c']);
    expect(textOf(root)).toBe('x & y!');
  });
});

describe('linearScale', () => {
  it.each([
    [36, 40, 10],
    [0.63, 0.8, 0.2],
    [8650, 10000, 2000],
    [0, 1, 0.2],
  ])('puts round ticks from 0 to at least %p', (max, top, step) => {
    const scale = linearScale(max);
    expect(scale.top).toBeCloseTo(top, 9);
    expect(scale.ticks[0]).toBe(0);
    scale.ticks.forEach((tick, i) => expect(tick).toBeCloseTo(i * step, 9));
    expect(scale.ticks.at(-1)).toBeCloseTo(top, 9);
  });

  it('labels ticks without float noise, thousands as k', () => {
    expect(linearScale(0.63).ticks.map(linearScale(0.63).label)).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8']);
    expect(linearScale(8650).ticks.map(linearScale(8650).label)).toEqual(['0', '2k', '4k', '6k', '8k', '10k']);
  });
});

describe('renderReport: against the baseline', () => {
  it('lists each figure of the baseline against this run, and what is beyond noise', () => {
    const results: BenchResults = {
      ...sample(),
      againstBaseline: {
        file: 'bench/results/2026-11-26.json',
        startedAt: '2026-11-26T16:35:00.000Z',
        comparisons: [
          {
            measure: "p50: gatehouse nats (jwt), 16 sessions, ÷ the peers'",
            baseline: '1.24×',
            current: '0.96×',
            change: '1.29× better',
            noise: '1.60×',
            noiseShare: -0.55,
            beyondNoise: false,
          },
          {
            measure: 'memory per open session: serve',
            baseline: '27.2 KB',
            current: '—',
            change: '—',
            noise: '15.0 KB',
            beyondNoise: true,
          },
        ],
      },
    };
    const page = renderReport(results, '').markdown;
    expect(page).toContain('the run of 2026-11-26 16:35 UTC (`bench/results/2026-11-26.json`)');
    const heading = '## Against the baseline';
    expect(row(page, heading, "p50: gatehouse nats (jwt), 16 sessions, ÷ the peers'")).toEqual([
      "p50: gatehouse nats (jwt), 16 sessions, ÷ the peers'",
      '1.24×',
      '0.96×',
      '1.29× better',
      '1.60×',
      'no',
    ]);
    expect(row(page, heading, 'memory per open session: serve').at(-1)).toBe('❌ yes');
    expect(parseBenchResults(JSON.stringify(results), 'compared.json')).toEqual(results);
    expect(renderReport(sample(), '').markdown).toContain('## Against the baseline\n\n_Not compared in this run._');
  });
});

describe('parseBenchResults', () => {
  it('reads back what the benchmark writes', () => {
    expect(parseBenchResults(JSON.stringify(sample()), 'sample.json')).toEqual(sample());
  });

  it('names the fields that do not fit', () => {
    const broken = { ...sample(), roundTrip: [{ ...trip('direct', 'none', 1, 1, 1), p50Ms: 'fast' }] };
    expect(() => parseBenchResults(JSON.stringify(broken), 'broken.json')).toThrow(/broken\.json .*roundTrip\.0\.p50Ms/);
  });
});
