/**
 * `npm run bench`: Gatehouse against a direct stdio connection and two peer gateways, in one run.
 * Writes bench/results/<date>.json and regenerates docs/benchmarks.md (see bench/README in docs).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '#testing';
import { BASELINE_FILE, compareWithBaseline } from './baseline.js';
import { quietListenerWarnings } from './lib/listener-warning.js';
import type { BenchResults } from './lib/results.js';
import { defaultResultsFile } from './report.js';
import { parseBenchResults } from './report/bench-results.schema.js';
import { writeReport } from './report/write-report.js';
import { measureDensity } from './scenarios/density.js';
import { measureIdleStreams, measurePerSession } from './scenarios/memory.js';
import { measureOneSession } from './scenarios/one-session.js';
import { measurePinnedRoundTrips } from './scenarios/pinned-round-trips.js';
import { measureRemoteRoundTrips } from './scenarios/remote-round-trips.js';
import { measureRoundTrips } from './scenarios/round-trips.js';
import { measureSessionStart } from './scenarios/session-start.js';
import { measureTailLatency } from './scenarios/tail-latency.js';
import { measureTokenChecks } from './scenarios/token-checks.js';
import { judgeTargets } from './targets.js';

const runStarted = Date.now();
/** A progress line, with the seconds since the run started: where the run's time goes. */
const progress = (line: string) => process.stderr.write(`bench: [${((Date.now() - runStarted) / 1000).toFixed(0)} s] ${line}\n`);

quietListenerWarnings(progress);

function packageVersion(name: string): string {
  const file = join(REPO_ROOT, name === 'gatehouse' ? '' : `node_modules/${name}`, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function natsServerVersion(): string {
  for (const binary of ['nats-server', '/usr/sbin/nats-server', '/usr/bin/nats-server']) {
    try {
      return execFileSync(binary, ['--version'], { encoding: 'utf8' })
        .trim()
        .replace(/^nats-server:\s*/, '');
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}

/** Read before measuring: a baseline that is missing or broken stops the run at once, not after 20 minutes of it. */
function readBaseline(): BenchResults {
  try {
    return parseBenchResults(readFileSync(join(REPO_ROOT, BASELINE_FILE), 'utf8'), BASELINE_FILE);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`bench: the baseline run ${BASELINE_FILE} cannot be read (restore it from git): ${reason}`, { cause: err });
  }
}

async function main(): Promise<void> {
  const baseline = readBaseline();
  const started = new Date();
  const [cpu] = cpus();
  progress(
    'round trips (direct, http floor, relay floors, gatehouse serve and over NATS with bearer and JWT and 2026-07-28, supergateway, mcp-proxy)',
  );
  const roundTrip = await measureRoundTrips(progress);
  progress('one session in turns (direct, http floor, the relay floors, gatehouse serve and over NATS with JWT)');
  const oneSession = await measureOneSession(progress);
  progress('64 sessions in turns (gatehouse serve and over NATS with JWT, supergateway, mcp-proxy)');
  const tailLatency = await measureTailLatency(progress);
  progress('pinned round trips (gateway on core 0, load on core 1: http floor, gatehouse serve and over NATS with JWT, peers)');
  const pinnedRoundTrip = await measurePinnedRoundTrips(progress);
  progress('remote round trips (server-everything over streamable HTTP: direct, through gatehouse serve and over NATS)');
  const remoteRoundTrip = await measureRemoteRoundTrips(progress);
  progress('session start (and a 2026-07-28 client on a warm and a cold pool)');
  const { sessionStart, poolStart } = await measureSessionStart(progress);
  progress('memory');
  const perSession = await measurePerSession(progress);
  const idleStreams = await measureIdleStreams(progress);
  // Before density: stopping its 5,000 backends leaves the machine busy for a while after.
  progress('token checks');
  const tokenChecks = await measureTokenChecks();
  progress('density (one runner holding thousands of open sessions, awk backends)');
  const density = await measureDensity(progress);
  const measured = {
    startedAt: started.toISOString(),
    durationSec: (Date.now() - started.getTime()) / 1000,
    machine: {
      cpuModel: cpu?.model ?? 'unknown',
      cores: cpus().length,
      memoryGiB: totalmem() / 2 ** 30,
      os: `${type()} ${release()}`,
      node: process.version,
    },
    versions: {
      gatehouse: packageVersion('gatehouse'),
      '@modelcontextprotocol/sdk': packageVersion('@modelcontextprotocol/sdk'),
      '@modelcontextprotocol/server-everything': packageVersion('@modelcontextprotocol/server-everything'),
      supergateway: packageVersion('supergateway'),
      'mcp-proxy': packageVersion('mcp-proxy'),
      'nats-server': natsServerVersion(),
    },
    roundTrip,
    oneSession,
    tailLatency,
    pinnedRoundTrip,
    remoteRoundTrip,
    sessionStart,
    poolStart,
    memory: { perSession, idleStreams },
    tokenChecks,
    density,
  };
  const againstBaseline = { file: BASELINE_FILE, startedAt: baseline.startedAt, comparisons: compareWithBaseline(measured, baseline) };
  const compared = { ...measured, againstBaseline };
  const results: BenchResults = { ...compared, targets: judgeTargets(compared) };
  const file = join(REPO_ROOT, defaultResultsFile(results));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  writeReport(file);
  progress(`wrote ${file} and docs/benchmarks.md in ${results.durationSec.toFixed(0)} s`);
  for (const t of results.targets) progress(`${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.figure} (target ${t.target})`);
}

await main();
