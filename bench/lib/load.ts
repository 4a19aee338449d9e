import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { disconnect } from './clients.js';
import { msSince, percentiles } from './stats.js';
import { inTurns } from './turns.js';

export interface LoadResult {
  calls: number;
  /** CPU milliseconds the gateway's processes spent over the measured calls, when measured. */
  gatewayCpuMs?: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  callsPerSec: number;
}

export interface LoadOptions {
  /** Concurrent sessions, each a client of its own calling in a loop. */
  concurrency: number;
  /** Calls per session before measuring. */
  warmupCalls: number;
  /** How long every session calls, measured. */
  durationMs: number;
}

/** One client calling `echo`, whatever it speaks: an SDK client of either revision, or raw POSTs. */
export interface Caller {
  call(): Promise<unknown>;
  close(): Promise<void>;
}

/** A 2025 SDK client as a caller; closing it ends its session. */
export function sessionCaller(client: Client): Caller {
  return {
    call: () => client.callTool({ name: 'echo', arguments: { message: 'ping' } }),
    close: () => disconnect(client),
  };
}

/** Opens `count` clients with `open`, one after another: a burst of spawns is the session-start benchmark's business. */
export async function openCallers(open: () => Promise<Caller>, count: number, into: Caller[] = []): Promise<Caller[]> {
  for (let i = 0; i < count; i++) into.push(await open());
  return into;
}

/** Every caller calls `echo` back to back for `durationMs`: each call's latency, and how long they all took. */
export async function callFor(callers: readonly Caller[], durationMs: number): Promise<{ samples: number[]; elapsedMs: number }> {
  const samples: number[] = [];
  const started = process.hrtime.bigint();
  const deadline = Date.now() + durationMs;
  await Promise.all(
    callers.map(async (caller) => {
      while (Date.now() < deadline) {
        const start = process.hrtime.bigint();
        await caller.call();
        samples.push(msSince(start));
      }
    }),
  );
  return { samples, elapsedMs: msSince(started) };
}

/**
 * Groups of callers that call in turns (lib/turns.ts): each round, each group calls for one window
 * of `windowMs` while the others wait; a group's figures are those of its `rounds` measured windows.
 */
export async function callInTurns(groups: readonly (readonly Caller[])[], rounds: number, windowMs: number): Promise<LoadResult[]> {
  const measured = groups.map((callers) => ({ callers, samples: [] as number[], elapsedMs: 0 }));
  await inTurns(measured, rounds, async (group, counted) => {
    const { samples, elapsedMs } = await callFor(group.callers, windowMs);
    if (!counted) return;
    for (const sample of samples) group.samples.push(sample);
    group.elapsedMs += elapsedMs;
  });
  return measured.map(({ samples, elapsedMs }) => loadResult(samples, elapsedMs));
}

/** The figures of calls measured over `elapsedMs`; a gateway CPU time that is unknown (a process gone, say) is left out, never written as a figure. */
export function loadResult(samples: number[], elapsedMs: number, gatewayCpuMs?: number): LoadResult {
  const { p50, p95, p99 } = percentiles(samples);
  const result: LoadResult = {
    calls: samples.length,
    p50Ms: p50,
    p95Ms: p95,
    p99Ms: p99,
    callsPerSec: samples.length / (elapsedMs / 1000),
  };
  if (gatewayCpuMs !== undefined && Number.isFinite(gatewayCpuMs) && gatewayCpuMs >= 0) result.gatewayCpuMs = gatewayCpuMs;
  return result;
}

/**
 * Opens `concurrency` clients with `open` (a session each, for 2025), warms each up, then has all of
 * them call `echo` back to back for `durationMs`: the latency of every call and the calls per second of all.
 */
export async function runCalls(open: () => Promise<Caller>, options: LoadOptions): Promise<LoadResult> {
  const callers: Caller[] = [];
  try {
    await openCallers(open, options.concurrency, callers);
    await Promise.all(
      callers.map(async (caller) => {
        for (let i = 0; i < options.warmupCalls; i++) await caller.call();
      }),
    );
    const { samples, elapsedMs } = await callFor(callers, options.durationMs);
    return loadResult(samples, elapsedMs);
  } finally {
    await Promise.all(callers.map((caller) => caller.close()));
  }
}
