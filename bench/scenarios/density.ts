/**
 * Density: one runner (edge and runner as separate processes over NATS) holding thousands of open
 * sessions, each with its own awk backend; the RSS each session costs the runner and the edge, and
 * the latency of `echo` in a few of those sessions while all of them stay open.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { descendantPids, eventually, isAlive } from '#testing';
import { IDLE_SERVER } from '../fixtures/backends.js';
import { POOL_SIZE, startBenchGatehouse } from '../gatehouse.js';
import { runCalls, type Caller } from '../lib/load.js';
import { echoCaller, inParallel, openSession } from '../lib/raw-sessions.js';
import type { DensityResult } from '../lib/results.js';
import { settledRss } from '../lib/rss.js';
import { msSince } from '../lib/stats.js';

const SESSIONS = Number(process.env.BENCH_DENSITY_SESSIONS ?? 5000);
/** Opening stops here, whatever is open by then: the run's time stays bounded if the runner slows down. */
const OPEN_TIMEOUT_MS = Number(process.env.BENCH_DENSITY_OPEN_MS ?? 180_000);
const CALL_MS = Number(process.env.BENCH_DENSITY_CALL_MS ?? 4000);
const WARMUP = 20;
const PARALLEL = 16;
const CALLERS = 16;
/**
 * Each open session holds its backend's stdin, stdout and stderr pipes in the runner: 982 fds with 320
 * sessions open in a smoke run (3 a session, ~20 of its own). The limit the runner inherits on the bench
 * machine is 20,000 (`ulimit -n`, soft and hard; Node raises soft to hard), so 5,000 sessions (~15,100
 * fds) fit; a limit too low for BENCH_DENSITY_SESSIONS is raised for the runner with prlimit.
 */
const FDS_PER_SESSION = 3;
const FDS_SPARE = 500;

type Progress = (line: string) => void;

export async function measureDensity(progress: Progress): Promise<DensityResult> {
  const sessions = { maxPerUser: SESSIONS + WARMUP, timeout: '30m', pool: { size: POOL_SIZE } };
  const gatehouse = await startBenchGatehouse('distributed', IDLE_SERVER, { sessions });
  try {
    const { mcpUrl } = gatehouse;
    const authorization = gatehouse.authorization.jwt;
    const { edge, runner } = gatehouse;
    const runnerOpenFilesLimit = ensureOpenFiles(runner.pid, (SESSIONS + WARMUP) * FDS_PER_SESSION + FDS_SPARE, progress);
    await inParallel(WARMUP, PARALLEL, () => openSession(mcpUrl, authorization));
    const [runnerRssBeforeBytes, edgeRssBeforeBytes] = await Promise.all([settledRss(runner.pid), settledRss(edge.pid)]);

    const started = process.hrtime.bigint();
    const deadline = Date.now() + OPEN_TIMEOUT_MS;
    let failed = 0;
    const opened = await inParallel(SESSIONS, PARALLEL, async (i) => {
      if (Date.now() > deadline) return undefined;
      if ((i + 1) % 1000 === 0) progress(`density: opening session ${i + 1} of ${SESSIONS}`);
      return openSession(mcpUrl, authorization).catch((err: unknown) => {
        if (failed++ === 0) progress(`density: a session did not open (${err instanceof Error ? err.message : String(err)})`);
        return undefined;
      });
    });
    const openSec = msSince(started) / 1000;
    const ids = opened.filter((id): id is string => id !== undefined);
    const [runnerRssAfterBytes, edgeRssAfterBytes] = await Promise.all([settledRss(runner.pid), settledRss(edge.pid)]);
    const runnerOpenFiles = readdirSync(`/proc/${runner.pid}/fd`).length;
    progress(
      `density: ${ids.length} of ${SESSIONS} sessions open in ${openSec.toFixed(1)} s (${failed} failed); runner holds ${runnerOpenFiles} fds`,
    );

    const echo = await echoWhileOpen(mcpUrl, authorization, ids.slice(0, CALLERS));
    const perSession = (before: number, after: number) => ((after - before) / Math.max(1, ids.length) / 1024).toFixed(1);
    progress(
      `density: runner ${perSession(runnerRssBeforeBytes, runnerRssAfterBytes)} KiB, edge ${perSession(edgeRssBeforeBytes, edgeRssAfterBytes)} KiB ` +
        `per session; echo p50 ${echo.p50Ms.toFixed(2)} ms, p99 ${echo.p99Ms.toFixed(2)} ms`,
    );
    return {
      sessionsAsked: SESSIONS,
      sessionsOpen: ids.length,
      openSec,
      runnerRssBeforeBytes,
      runnerRssAfterBytes,
      edgeRssBeforeBytes,
      edgeRssAfterBytes,
      runnerOpenFiles,
      runnerOpenFilesLimit,
      echo,
    };
  } finally {
    const stopping = process.hrtime.bigint();
    // Taken before the runner stops: a runner killed before closing them all leaves its backends re-parented.
    const backends = descendantPids(gatehouse.runner.pid);
    await gatehouse.stop();
    await stopStragglers(backends);
    progress(`density: topology and its ${backends.length} backends stopped in ${(msSince(stopping) / 1000).toFixed(1)} s`);
  }
}

/** Backends still alive 5 s after their runner stopped (each exits on its stdin's end): SIGKILLed. */
async function stopStragglers(pids: readonly number[]): Promise<void> {
  const gone = await eventually(() => !pids.some(isAlive), 'backends still alive', 5_000).then(
    () => true,
    () => false,
  );
  if (gone) return;
  for (const pid of pids.filter(isAlive)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
}

/** `echo` in a loop in each of `sessionIds` (open ones), all at once, while every other session stays open. */
async function echoWhileOpen(mcpUrl: string, authorization: string, sessionIds: string[]): Promise<DensityResult['echo']> {
  // The sessions stay open when their callers close: the topology's stop ends them with the others.
  const callers: Caller[] = sessionIds.map((sessionId) => echoCaller(mcpUrl, authorization, sessionId));
  const open = () => {
    const caller = callers.shift();
    return caller === undefined ? Promise.reject(new Error('no open session left to call from')) : Promise.resolve(caller);
  };
  const result = await runCalls(open, { concurrency: callers.length, warmupCalls: 10, durationMs: CALL_MS });
  return { callers: sessionIds.length, calls: result.calls, p50Ms: result.p50Ms, p99Ms: result.p99Ms };
}

/** The soft RLIMIT_NOFILE of `pid`, raised (prlimit) to at least `needed` when it is lower; the limit it has after. */
function ensureOpenFiles(pid: number, needed: number, progress: Progress): number {
  const { soft: limit, hard } = openFilesLimit(pid);
  if (limit >= needed) return limit;
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${needed}:${Math.max(needed, hard)}`], { stdio: 'ignore' });
    progress(`density: raised the runner's open-file limit from ${limit} to ${needed}`);
  } catch (err) {
    progress(`density: the runner may open ${limit} files, fewer than ${needed}, and prlimit could not raise it (${String(err)})`);
  }
  return openFilesLimit(pid).soft;
}

/** RLIMIT_NOFILE of `pid` (Linux never makes it unlimited). */
function openFilesLimit(pid: number): { soft: number; hard: number } {
  const [, soft, hard] = /^Max open files\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8')) ?? [];
  return { soft: Number(soft), hard: Number(hard) };
}
