/**
 * Calls/s at 16 and 64 sessions with each gateway's processes pinned to GATEWAY_CPU and the load (this
 * process, its SDK clients, every backend) to LOAD_CPU: what one core of gateway serves, without the
 * gateway and the backends taking each other's time as they do unpinned on two cores.
 */
import { readFileSync } from 'node:fs';
import { cpuMs, descendantPids, freePort, isAlive, startPrivateNatsServer } from '#testing';
import { ECHO_SERVER } from '../fixtures/backends.js';
import { startHttpFloor, startRelayFloor, type RunningFloor } from '../fixtures/floors.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { streamableHttp, type Connect } from '../lib/clients.js';
import { GATEWAY_CPU, LOAD_CPU, onLoadCpu, pin, pinning, withLoadPinned } from '../lib/cpu-pinning.js';
import type { PinnedRoundTrip, RoundTripRow, TargetName } from '../lib/results.js';
import { startMcpProxy, startSupergateway } from '../peers.js';
import { measure } from './round-trips.js';
import { track, untrack } from '../lib/process-guard.js';

const CONCURRENCY = [16, 64];
/** A gateway started moments before: its JIT warms up unmeasured first, shorter than the unpinned rows' warm-up. */
const WARMUP_MS = Number(process.env.BENCH_PINNED_WARMUP_MS ?? 2000);
const GATEWAY = String(GATEWAY_CPU);

type Progress = (line: string) => void;

export async function measurePinnedRoundTrips(progress: Progress): Promise<PinnedRoundTrip> {
  const cores = { gatewayCpu: GATEWAY_CPU, loadCpu: LOAD_CPU };
  const how = pinning();
  if ('skipped' in how) {
    progress(`pinned round trips skipped: ${how.skipped}`);
    return { ...cores, skipped: how.skipped, rows: [] };
  }
  const rows = await withLoadPinned(how.taskset, () => measureAll(how.taskset, progress));
  return { ...cores, rows };
}

async function measureAll(taskset: string, progress: Progress): Promise<RoundTripRow[]> {
  // The gateway's processes go on its core; their CPU time over the measured calls is what the calls cost it.
  const run = (target: TargetName, auth: RoundTripRow['auth'], connect: Connect, gateway: readonly number[]) => {
    // Not a zombie: supergateway leaves one behind at start-up, reaped later.
    const pinned = gateway.filter((pid) => isAlive(pid) && pinUnlessGone(taskset, pid));
    // The processes still running when the measured calls start (a peer's helper that ran at its
    // start-up is not one of them). NaN once one of those is gone: its time would be missing from the sum.
    let measured: number[] | undefined;
    const gatewayCpuMs = () => (measured ??= pinned.filter(isAlive)).reduce((sum, pid) => sum + (cpuMs(pid) ?? Number.NaN), 0);
    return measure(target, auth, connect, progress, { label: 'pinned ', concurrencies: CONCURRENCY, warmupMs: WARMUP_MS, gatewayCpuMs });
  };
  const backend = onLoadCpu(taskset, ECHO_SERVER);
  const rows: RoundTripRow[] = [];

  const floor = async (target: TargetName, start: () => Promise<RunningFloor>, more: readonly number[] = []) => {
    const running = await start();
    try {
      rows.push(...(await run(target, 'none', streamableHttp(running.url), [...running.pids, ...more])));
    } finally {
      await running.stop();
    }
  };
  await floor('http floor', startHttpFloor);
  await floor('relay floor', () => startRelayFloor(backend));

  const serve = await startBenchGatehouse('all-in-one', backend);
  try {
    const gateway = serve.processes.map((p) => p.pid);
    rows.push(...(await run('gatehouse serve', 'jwt', streamableHttp(serve.mcpUrl, serve.authorization.jwt), gateway)));
  } finally {
    await serve.stop();
  }

  // The bus of this topology runs on the gateway's core too, and is nobody else's.
  const nats = await startPrivateNatsServer(await freePort());
  const natsPid = nats.pid();
  if (natsPid === undefined) throw new Error("the pinned run's nats-server is not running");
  track(natsPid);
  try {
    await floor('nats relay floor', () => startRelayFloor(backend, nats.url), [natsPid]);
    const distributed = await startBenchGatehouse('distributed', backend, { env: { NATS_URL: nats.url } });
    try {
      const gateway = [...distributed.processes.map((p) => p.pid), natsPid];
      rows.push(...(await run('gatehouse nats', 'jwt', streamableHttp(distributed.mcpUrl, distributed.authorization.jwt), gateway)));
    } finally {
      await distributed.stop();
    }
  } finally {
    await nats.close();
    untrack(natsPid);
  }

  for (const [target, start] of [
    ['supergateway', startSupergateway],
    ['mcp-proxy', startMcpProxy],
  ] as const) {
    const peer = await start(backend);
    try {
      // With what it started besides backends (mcp-proxy's one backend is already running, on LOAD_CPU).
      const gateway = [peer.pid, ...descendantPids(peer.pid).filter((p) => !isBackend(p))];
      rows.push(...(await run(target, 'none', streamableHttp(peer.url), gateway)));
    } finally {
      await peer.stop();
    }
  }
  return rows;
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

/** Whether `pid` runs the echo server (started by taskset on LOAD_CPU), from its command line. */
function isBackend(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .some((arg) => ECHO_SERVER.args.includes(arg));
  } catch {
    return false;
  }
}
