/** Reads a results file back: a file edited by hand or written by an older run fails here, by field, not as NaN on the page. */
import { z } from 'zod';
import { TARGET_NAMES, type BenchResults } from '../lib/results.js';

const target = z.enum(TARGET_NAMES);
const figure = z.number();
const count = z.number().int().nonnegative();
/** A figure the run could not measure is written as null (JSON has no NaN), and read back as NaN: the page shows "—". */
const figureOrNull = z
  .number()
  .nullable()
  .transform((value) => value ?? Number.NaN);
const roundTripRow = z.object({
  target,
  auth: z.enum(['none', 'bearer', 'jwt']),
  concurrency: count,
  protocol: z.literal('2026-07-28').optional(),
  calls: count,
  p50Ms: figure,
  p95Ms: figure,
  p99Ms: figure,
  callsPerSec: figure,
  gatewayCpuMs: z.number().nonnegative().optional(),
  gatewayCoreBusy: z.number().min(0).max(1).optional(),
});
const rowsInTurns = z.object({ turns: z.object({ warmupMs: count, rounds: count, windowMs: count }), rows: z.array(roundTripRow) });

// Typed against BenchResults, so the schema cannot drift from the type the benchmark writes.
export const benchResultsSchema: z.ZodType<BenchResults> = z.object({
  startedAt: z.string(),
  durationSec: figure,
  machine: z.object({ cpuModel: z.string(), cores: count, memoryGiB: figure, os: z.string(), node: z.string() }),
  versions: z.record(z.string(), z.string()),
  roundTrip: z.array(roundTripRow),
  remoteRoundTrip: z.array(roundTripRow).optional(),
  oneSession: rowsInTurns.optional(),
  tailLatency: rowsInTurns.optional(),
  pinnedRoundTrip: z
    .object({
      gatewayCpu: count,
      loadCpu: count,
      skipped: z.string().optional(),
      load: z.object({ client: z.literal('node:http'), backend: z.literal('awk server') }).optional(),
      turns: z.object({ warmupMs: count, rounds: count, windowMs: count, settleMs: count }).optional(),
      rows: z.array(roundTripRow),
    })
    .optional(),
  sessionStart: z.array(
    z.object({ target, backend: z.enum(['node echo server', 'awk server']), samples: count, p50Ms: figure, p95Ms: figure }),
  ),
  poolStart: z
    .array(
      z.object({
        target: z.enum(['gatehouse serve', 'gatehouse nats']),
        start: z.enum(['2025 session', '2026 warm pool', '2026 cold pool']),
        samples: count,
        firstAnswerP50Ms: figure,
        firstAnswerP95Ms: figure,
        firstCallP50Ms: figure,
        firstCallP95Ms: figure,
      }),
    )
    .optional(),
  memory: z.object({
    perSession: z.array(
      z.object({
        process: z.enum(['edge', 'runner', 'serve']),
        sessions: count,
        rssBeforeBytes: figure,
        rssAfterBytes: figure,
        perSessionBytes: figure,
      }),
    ),
    idleStreams: z.array(
      z.object({
        kind: z.enum(['streamable-http GET', 'legacy SSE']),
        streams: count,
        edgeRssBeforeBytes: figure,
        edgeRssAfterBytes: figure,
      }),
    ),
  }),
  tokenChecks: z.object({ cachedPerSec: figure, firstSightPerSec: figure, signatureOnlyPerSec: figure.optional() }),
  density: z
    .object({
      sessionsAsked: count,
      sessionsOpen: count,
      openSec: figure,
      runnerRssBeforeBytes: figure,
      runnerRssAfterBytes: figure,
      edgeRssBeforeBytes: figure,
      edgeRssAfterBytes: figure,
      runnerOpenFiles: count,
      runnerOpenFilesLimit: count,
      echo: z.object({ callers: count, calls: count, p50Ms: figureOrNull, p99Ms: figureOrNull }),
    })
    .optional(),
  againstBaseline: z
    .object({
      file: z.string(),
      startedAt: z.string(),
      comparisons: z.array(
        z.object({
          measure: z.string(),
          baseline: z.string(),
          current: z.string(),
          change: z.string(),
          noise: z.string(),
          noiseShare: figure.optional(),
          beyondNoise: z.boolean(),
        }),
      ),
    })
    .optional(),
  targets: z.array(z.object({ name: z.string(), target: z.string(), figure: z.string(), met: z.boolean() })),
});

/** The results in `json`, or an error naming the first fields that do not fit. */
export function parseBenchResults(json: string, source: string): BenchResults {
  const parsed = benchResultsSchema.safeParse(JSON.parse(json));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 5).map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new Error(`${source} is not a benchmark results file: ${problems.join('; ')}`);
}
