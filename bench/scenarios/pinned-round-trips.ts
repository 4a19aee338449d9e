/**
 * Calls/s at 16 and 64 sessions with each gateway's processes pinned to GATEWAY_CPU and the load (this
 * process, its clients, every backend) to LOAD_CPU: what one core of gateway serves, without the
 * gateway and the backends taking each other's time as they do unpinned on two cores.
 *
 * The load is as light as it can be, so that the gateway's core saturates first: each session's
 * client is node:http over a kept-alive connection, and each backend the awk server. With the SDK
 * client and the Node.js echo server (the unpinned rows' load) the load's core saturated at about a
 * third of what the gateways could serve, and CPU per call measured at part load counted the cost of
 * waking for each call alone, which a busy gateway shares between the calls it finds waiting.
 *
 * Every gateway measured here runs at once, each with its sessions open, and they take turns: round
 * after round, each calls for one window while the others wait. A row's figures are the sum of its
 * windows. Rows measured one after another, minutes apart, moved with the machine by more than the
 * differences between them (a peer's CPU per call by a fifth from one run to the next, with no change
 * of its own); windows seconds apart see the same machine.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { cpuMs, descendantPids, isAlive } from '#testing';
import { IDLE_SERVER } from '../fixtures/backends.js';
import { startHttpFloor, startRelayFloor } from '../fixtures/floors.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { coreTicks, GATEWAY_CPU, LOAD_CPU, onLoadCpu, pin, pinning, waitForQuietCore, withLoadPinned } from '../lib/cpu-pinning.js';
import { callFor, loadResult, openCallers, type Caller } from '../lib/load.js';
import { startTrackedNatsServer } from '../lib/process-guard.js';
import { echoCaller, openSession } from '../lib/raw-sessions.js';
import type { PinnedRoundTrip, RoundTripRow, TargetName } from '../lib/results.js';
import { inTurns, positiveFromEnv } from '../lib/turns.js';
import { startMcpProxy, startSupergateway } from '../peers.js';

const CONCURRENCY = [16, 64];
/**
 * Each gateway's first calls, unmeasured: a process started moments before runs its code unoptimised
 * for seconds (the HTTP floor's first 2 s window cost it five times its CPU per call of the third).
 */
const WARMUP_MS = positiveFromEnv('BENCH_PINNED_WARMUP_MS', 4000);
/** Measured rounds at each concurrency, after one unmeasured round (the new sessions' first calls). */
const ROUNDS = positiveFromEnv('BENCH_PINNED_ROUNDS', 6);
const WINDOW_MS = positiveFromEnv('BENCH_PINNED_WINDOW_MS', 2000);
/**
 * After a window, before its gateway's CPU time is read: what the calls left to do later is done by
 * then and counted with them (Gatehouse sends its audit records every second).
 */
const SETTLE_MS = positiveFromEnv('BENCH_PINNED_SETTLE_MS', 1200);
const GATEWAY = String(GATEWAY_CPU);
/** The load's core is quiet once it is this busy or less over a second, with nothing being called. */
const QUIET_BUSY_SHARE = 0.05;
const QUIET_LIMIT_MS = 120_000;

type Progress = (line: string) => void;

/** A gateway running, pinned, and what its rows are made of. */
interface Contender {
  target: TargetName;
  auth: RoundTripRow['auth'];
  /** Opens a session and its caller. */
  open: () => Promise<Caller>;
  /** CPU time so far (ms) of the gateway's processes: NaN once one of them is gone, whose time would be missing. */
  gatewayCpuMs: () => number;
  callers: Caller[];
}

/** One gateway's row in the making: its windows' calls, time and gateway CPU, summed. */
interface Tally {
  contender: Contender;
  samples: number[];
  elapsedMs: number;
  cpuMs: number;
  /** Clock ticks of the gateway's core over the windows: busy, and in all. */
  coreBusy: number;
  coreTotal: number;
}

export async function measurePinnedRoundTrips(progress: Progress): Promise<PinnedRoundTrip> {
  const cores = { gatewayCpu: GATEWAY_CPU, loadCpu: LOAD_CPU };
  const how = pinning();
  if ('skipped' in how) {
    progress(`pinned round trips skipped: ${how.skipped}`);
    return { ...cores, skipped: how.skipped, rows: [] };
  }
  const rows = await withLoadPinned(how.taskset, () => measureAll(how.taskset, progress));
  const turns = { warmupMs: WARMUP_MS, rounds: ROUNDS, windowMs: WINDOW_MS, settleMs: SETTLE_MS };
  return { ...cores, load: { client: 'node:http', backend: 'awk server' }, turns, rows };
}

async function measureAll(taskset: string, progress: Progress): Promise<RoundTripRow[]> {
  const backend = onLoadCpu(taskset, IDLE_SERVER);
  const contenders: Contender[] = [];
  const stops: (() => Promise<void>)[] = [];
  // The gateway's processes go on its core; their CPU time over its windows is what its calls cost it.
  const add = (target: TargetName, url: string, authorization: string | undefined, gateway: readonly number[]) => {
    // Not a zombie: supergateway leaves one behind at start-up, reaped later.
    const pinned = gateway.filter((pid) => isAlive(pid) && pinUnlessGone(taskset, pid));
    // The processes still running when the first window starts (a peer's helper that ran at its start-up is not one of them).
    let measured: number[] | undefined;
    const gatewayCpuMs = () => (measured ??= pinned.filter(isAlive)).reduce((sum, pid) => sum + (cpuMs(pid) ?? Number.NaN), 0);
    const open = async () => echoCaller(url, authorization, await openSession(url, authorization));
    contenders.push({ target, auth: authorization === undefined ? 'none' : 'jwt', open, gatewayCpuMs, callers: [] });
  };
  /** A nats-server of the topology's own: on the gateway's core with it, its CPU time counted with it. */
  const privateNats = async () => {
    const nats = await startTrackedNatsServer();
    stops.push(nats.stop);
    return nats;
  };
  try {
    const httpFloor = await startHttpFloor();
    stops.push(httpFloor.stop);
    add('http floor', httpFloor.url, undefined, httpFloor.pids);
    const relayFloor = await startRelayFloor(backend);
    stops.push(relayFloor.stop);
    add('relay floor', relayFloor.url, undefined, relayFloor.pids);
    const serve = await startBenchGatehouse('all-in-one', backend);
    stops.push(() => serve.stop());
    add(
      'gatehouse serve',
      serve.mcpUrl,
      serve.authorization.jwt,
      serve.processes.map((p) => p.pid),
    );

    const floorNats = await privateNats();
    const natsRelayFloor = await startRelayFloor(backend, floorNats.url);
    stops.push(natsRelayFloor.stop);
    add('nats relay floor', natsRelayFloor.url, undefined, [...natsRelayFloor.pids, floorNats.pid]);
    const nats = await privateNats();
    const distributed = await startBenchGatehouse('distributed', backend, { env: { NATS_URL: nats.url } });
    stops.push(() => distributed.stop());
    const distributedPids = [...distributed.processes.map((p) => p.pid), nats.pid];
    add('gatehouse nats', distributed.mcpUrl, distributed.authorization.jwt, distributedPids);

    for (const [target, start] of [
      ['supergateway', startSupergateway],
      ['mcp-proxy', startMcpProxy],
    ] as const) {
      const peer = await start(backend);
      stops.push(() => peer.stop());
      // With what it started besides backends (mcp-proxy's one backend is already running, on LOAD_CPU).
      add(target, peer.url, undefined, [peer.pid, ...descendantPids(peer.pid).filter((p) => !isBackend(p))]);
    }

    const rows: RoundTripRow[] = [];
    for (const concurrency of CONCURRENCY) {
      // The sessions of the lower concurrency stay open and are joined by the rest.
      for (const c of contenders) await openCallers(c.open, concurrency - c.callers.length, c.callers);
      if (!(await waitForQuietCore(LOAD_CPU, QUIET_BUSY_SHARE, QUIET_LIMIT_MS))) {
        progress(`pinned: the load's core was still busy ${QUIET_LIMIT_MS / 1000} s after the sessions opened; measuring anyway`);
      }
      if (concurrency === CONCURRENCY[0]) for (const c of contenders) await callFor(c.callers, WARMUP_MS);
      rows.push(...(await takeTurns(contenders, concurrency, progress)));
    }
    return rows;
  } finally {
    // Whatever a session's end says, every gateway is stopped.
    await Promise.allSettled(contenders.flatMap((c) => c.callers.map((caller) => caller.close())));
    for (const stop of stops.reverse()) await stop();
  }
}

/** Rounds of one window each, in turns (`inTurns`); the first round warms up, unmeasured. */
async function takeTurns(contenders: readonly Contender[], concurrency: number, progress: Progress): Promise<RoundTripRow[]> {
  const tallies = contenders.map((contender): Tally => ({ contender, samples: [], elapsedMs: 0, cpuMs: 0, coreBusy: 0, coreTotal: 0 }));
  await inTurns(tallies, ROUNDS, async (tally, measured) => {
    const before = tally.contender.gatewayCpuMs();
    const core = coreTicks(GATEWAY_CPU);
    const { samples, elapsedMs } = await callFor(tally.contender.callers, WINDOW_MS);
    const coreAfter = coreTicks(GATEWAY_CPU);
    await delay(SETTLE_MS);
    if (!measured) return;
    // One by one: a long window's tens of thousands of samples would overflow a spread call's arguments.
    for (const sample of samples) tally.samples.push(sample);
    tally.elapsedMs += elapsedMs;
    tally.cpuMs += tally.contender.gatewayCpuMs() - before;
    tally.coreBusy += coreAfter.busy - core.busy;
    tally.coreTotal += coreAfter.total - core.total;
  });
  return tallies.map(({ contender, samples, elapsedMs, cpuMs, coreBusy, coreTotal }) => {
    const result = loadResult(samples, elapsedMs, cpuMs);
    const gatewayCoreBusy = coreTotal > 0 ? coreBusy / coreTotal : undefined;
    const perCall = result.gatewayCpuMs === undefined ? 'unknown' : `${Math.round((1000 * result.gatewayCpuMs) / result.calls)} µs`;
    const busy = gatewayCoreBusy === undefined ? 'unknown' : `${Math.round(100 * gatewayCoreBusy)}%`;
    const what = `${contender.target} (${contender.auth}) ×${concurrency}`;
    progress(
      `pinned ${what}: p50 ${result.p50Ms.toFixed(2)} ms, ${Math.round(result.callsPerSec)} calls/s, gateway CPU ${perCall} a call, its core ${busy} busy`,
    );
    return {
      target: contender.target,
      auth: contender.auth,
      concurrency,
      ...result,
      ...(gatewayCoreBusy !== undefined && { gatewayCoreBusy }),
    };
  });
}

/** Pins `pid` to the gateway's core; false when it has exited meanwhile (a peer's short-lived helper), a throw otherwise. */
function pinUnlessGone(taskset: string, pid: number): boolean {
  try {
    pin(taskset, pid, GATEWAY);
    return true;
  } catch (err) {
    if (isAlive(pid)) throw err;
    return false;
  }
}

/** Whether `pid` runs the backend (started by taskset on LOAD_CPU), from its command line: its script's path. */
function isBackend(pid: number): boolean {
  const script = IDLE_SERVER.args.at(-1);
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .some((arg) => arg === script);
  } catch {
    return false;
  }
}
