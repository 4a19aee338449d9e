/** What one `npm run bench` run measured: written to bench/results/<date>.json, rendered to docs/benchmarks.md. */
export interface BenchResults {
  /** ISO 8601 time the run started. */
  startedAt: string;
  /** Wall-clock seconds the whole run took. */
  durationSec: number;
  machine: { cpuModel: string; cores: number; memoryGiB: number; os: string; node: string };
  /** Package (or program) name → version, e.g. gatehouse, @modelcontextprotocol/sdk, supergateway, mcp-proxy, nats-server. */
  versions: Record<string, string>;
  /** Tool-call round trips: one row per target and concurrency. */
  roundTrip: RoundTripRow[];
  /**
   * `echo` at one session (the SDK client, the Node.js echo server) through direct stdio, the HTTP floor,
   * both relay floors and Gatehouse with a JWT, in turns: what the one-session targets judge (absent in older runs).
   */
  oneSession?: RowsInTurns;
  /**
   * `echo` at 64 sessions through Gatehouse with a JWT and the peers, in turns: what the p99 target
   * judges (absent in older runs, whose p99 target judged the unpinned rows).
   */
  tailLatency?: RowsInTurns;
  /** Calls/s with the gateway on one core and the load on the other (absent in older runs). */
  pinnedRoundTrip?: PinnedRoundTrip;
  /** The same to a remote streamable-HTTP server: direct, and through Gatehouse's runner (absent in older runs). */
  remoteRoundTrip?: RoundTripRow[];
  sessionStart: SessionStartRow[];
  /** A new client's first answers through Gatehouse: a 2025 session, a 2026-07-28 client of a warm and of a cold pool (absent in older runs). */
  poolStart?: PoolStartRow[];
  memory: { perSession: MemoryPerSessionRow[]; idleStreams: IdleStreamsRow[] };
  tokenChecks: TokenChecks;
  /** One runner holding thousands of open sessions (absent in older runs). */
  density?: DensityResult;
  /** Every figure the baseline run measured against this run's (absent in older runs; see bench/baseline.ts). */
  againstBaseline?: { file: string; startedAt: string; comparisons: BaselineComparison[] };
  /** The targets, each with the figure measured in this run. */
  targets: TargetRow[];
}

/**
 * A measured path: `direct` is stdio with no HTTP; `http floor` is HTTP with no gateway (a bare endpoint that
 * answers at once, no backend); the relay floors are Gatehouse's two designs with none of its work (a backend
 * per session, every message relayed as it is: one process, or an edge and a runner over NATS); peers bridge
 * stdio to HTTP without auth. In the order the page shows them: the floors, Gatehouse, the peers.
 */
export const TARGET_NAMES = [
  'direct',
  'http floor',
  'relay floor',
  'nats relay floor',
  'gatehouse serve',
  'gatehouse nats',
  'supergateway',
  'mcp-proxy',
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface RoundTripRow {
  target: TargetName;
  /** How callers authenticate: none (direct, peers), a static bearer token, or an OAuth JWT. */
  auth: 'none' | 'bearer' | 'jwt';
  /** Concurrent sessions, each calling `echo` in a loop (2026-07-28: concurrent stateless clients of one identity). */
  concurrency: number;
  /** Absent: 2025 sessions (initialize, Mcp-Session-Id). `2026-07-28`: stateless calls served by the identity's warm pool. */
  protocol?: '2026-07-28';
  calls: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  callsPerSec: number;
  /**
   * Pinned rows: CPU milliseconds the gateway's processes (for NATS with its nats-server; for a peer
   * without its backends) spent over the measured calls. calls ÷ these seconds = calls per second
   * of one gateway core, whatever else limited calls/s.
   */
  gatewayCpuMs?: number;
  /** Pinned rows: the share of the gateway's core that was busy over the measured calls (1: saturated). Absent in older runs. */
  gatewayCoreBusy?: number;
}

/** The same calls with each gateway's processes pinned to one core and the load (bench, clients, backends) to another. */
export interface PinnedRoundTrip {
  /** The core of the gateway's processes (and of Gatehouse's own nats-server). */
  gatewayCpu: number;
  /** The core of the bench process, its clients and every backend. */
  loadCpu: number;
  /** Why nothing was pinned (no taskset, one core), when so; `rows` is then empty. */
  skipped?: string;
  /**
   * The load, when it was not the unpinned rows' (SDK clients, the Node.js echo server): node:http
   * clients and the awk server, light enough that the gateway's core saturates before the load's.
   */
  load?: { client: 'node:http'; backend: 'awk server' };
  /**
   * How the rows were measured when every gateway ran at once and they took turns: measured rounds at
   * each concurrency, each gateway calling for one window a round (absent in older runs, which measured
   * one gateway after another).
   */
  turns?: PinnedTurns;
  rows: RoundTripRow[];
}

/** How rows were measured in turns (bench/lib/turns.ts). */
export interface Turns {
  /** Each contender's unmeasured calls before the first round. */
  warmupMs: number;
  /** Measured rounds (at each concurrency), after one unmeasured round. */
  rounds: number;
  windowMs: number;
}

/** Rows of paths that all ran at once and called in turns (bench/lib/turns.ts), and how. */
export interface RowsInTurns {
  turns: Turns;
  rows: RoundTripRow[];
}

export interface PinnedTurns extends Turns {
  /** After each window, before the gateway's CPU time is read (work the calls left for later counts with them). */
  settleMs: number;
}

/** One runner (edge and runner as separate processes over NATS) holding many open sessions, an awk backend each. */
export interface DensityResult {
  /** Sessions the run set out to open (BENCH_DENSITY_SESSIONS). */
  sessionsAsked: number;
  /** Sessions actually open, beyond a warm-up of a few: the divisor of the per-session figures. */
  sessionsOpen: number;
  /** Wall-clock seconds to open them, a bounded number at a time. */
  openSec: number;
  runnerRssBeforeBytes: number;
  runnerRssAfterBytes: number;
  edgeRssBeforeBytes: number;
  edgeRssAfterBytes: number;
  /** The runner's open file descriptors with every session open, and its limit (RLIMIT_NOFILE, soft). */
  runnerOpenFiles: number;
  runnerOpenFilesLimit: number;
  /** `echo` calls by some of the open sessions, in a loop, while all of them stay open. */
  echo: { callers: number; calls: number; p50Ms: number; p99Ms: number };
}

export interface SessionStartRow {
  /** `direct` = spawn the backend and initialize + tools/list over stdio. */
  target: TargetName;
  /** The backend started: a Node.js MCP server (realistic), or an awk one that starts in milliseconds (isolates the gateway's cost). */
  backend: 'node echo server' | 'awk server';
  samples: number;
  p50Ms: number;
  p95Ms: number;
}

/** How a new client through Gatehouse got to its first answers, the `node echo server` as the backend. */
export interface PoolStartRow {
  target: 'gatehouse serve' | 'gatehouse nats';
  /**
   * `2025 session`: initialize (a backend spawned for the session); `2026 warm pool`: a new client of an identity whose pool
   * is open; `2026 cold pool`: a new client of an identity never seen, whose first request spawns the pool's backend.
   */
  start: '2025 session' | '2026 warm pool' | '2026 cold pool';
  samples: number;
  /** The client's first request to its answer: `initialize` (and the `initialized` notification), or `server/discover`. */
  firstAnswerP50Ms: number;
  firstAnswerP95Ms: number;
  /** From the first request to the answer of the client's first `tools/call` of `echo`. */
  firstCallP50Ms: number;
  firstCallP95Ms: number;
}

export interface MemoryPerSessionRow {
  /** The gateway process measured (its own RSS; backend children excluded). */
  process: 'edge' | 'runner' | 'serve';
  sessions: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  perSessionBytes: number;
}

export interface IdleStreamsRow {
  kind: 'streamable-http GET' | 'legacy SSE';
  streams: number;
  edgeRssBeforeBytes: number;
  edgeRssAfterBytes: number;
}

/** How the targets and the baseline comparison name an idle-streams row's edge RSS. */
export function idleStreamsName(row: Pick<IdleStreamsRow, 'kind' | 'streams'>): string {
  return `edge RSS with ${row.streams.toLocaleString('en-US')} idle ${row.kind} streams`;
}

/** Access-token checks per second by the edge's verifier on one core. */
export interface TokenChecks {
  /** A token seen before. */
  cachedPerSec: number;
  /** Tokens never seen: a full ES256 check. */
  firstSightPerSec: number;
  /**
   * node:crypto's ES256 verify alone: the ceiling of a first sight (absent in older runs). Measured in
   * turns with the first sights since the run after 2026-12-07 02:37; right after them before.
   */
  signatureOnlyPerSec?: number;
}

export interface TargetRow {
  name: string;
  /** The target as the issue states it, e.g. "≤ 0.5 ms". */
  target: string;
  /** The figure this run measured, e.g. "1.84 ms". */
  figure: string;
  met: boolean;
}

/** A figure of the baseline run against this run's, each as bench/baseline.ts compares it. */
export interface BaselineComparison {
  measure: string;
  baseline: string;
  current: string;
  /** "1.09× worse", "+2.0 KB worse", "1.20× better"; "—" when this run lacks the figure. */
  change: string;
  /** How far repeated runs moved the figure without a change of its own: "1.5×", "15.0 KB". */
  noise: string;
  /** How much of the noise the change takes (1: all of it; below 0: better); absent when this run lacks the figure. */
  noiseShare?: number;
  beyondNoise: boolean;
}

/** Calls per second of one gateway core: a pinned row's calls over the gateway's CPU seconds; NaN when not measured. */
export function callsPerGatewayCoreSec(row: Pick<RoundTripRow, 'calls' | 'gatewayCpuMs'> | undefined): number {
  const cpuMs = row?.gatewayCpuMs;
  return row !== undefined && cpuMs !== undefined && cpuMs > 0 ? row.calls / (cpuMs / 1000) : Number.NaN;
}
