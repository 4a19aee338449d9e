/**
 * Calls/s at 16 and 64 sessions with each gateway's processes pinned to GATEWAY_CPU and the load (this
 * process, its SDK clients, every backend) to LOAD_CPU: what one core of gateway serves, without the
 * gateway and the backends taking each other's time as they do unpinned on two cores.
 */
import { readFileSync } from 'node:fs';
import { descendantPids } from '#testing';
import { ECHO_SERVER } from '../fixtures/backends.js';
import { startHttpFloor } from '../fixtures/http-floor.js';
import { startBenchGatehouse } from '../gatehouse.js';
import { streamableHttp, type Connect } from '../lib/clients.js';
import { GATEWAY_CPU, LOAD_CPU, onLoadCpu, pin, pinning, withLoadPinned } from '../lib/cpu-pinning.js';
import { startPinnedNats } from '../lib/private-nats.js';
import type { PinnedRoundTrip, RoundTripRow, TargetName } from '../lib/results.js';
import { startMcpProxy, startSupergateway } from '../peers.js';
import { measure } from './round-trips.js';

const CONCURRENCY = [16, 64];
/** A gateway started moments before: its JIT warms up unmeasured first, shorter than the unpinned rows' warm-up. */
const WARMUP_MS = Number(process.env.BENCH_PINNED_WARMUP_MS ?? 2000);
const GATEWAY = String(GATEWAY_CPU);
/** USER_HZ: /proc counts CPU time in these on every Linux the bench runs on. */
const CLOCK_TICKS_PER_SEC = 100;

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
  // Every process pinned to the gateway's core is the gateway: its CPU time is what a call cost it.
  let gateway: number[] = [];
  const pinned = (pid: number) => {
    pin(taskset, pid, GATEWAY);
    gateway.push(pid);
  };
  const run = async (target: TargetName, auth: RoundTripRow['auth'], connect: Connect) => {
    const pids = gateway;
    gateway = [];
    const gatewayCpuMs = () => pids.reduce((sum, pid) => sum + cpuMsOf(pid), 0);
    return measure(target, auth, connect, progress, { label: 'pinned ', concurrencies: CONCURRENCY, warmupMs: WARMUP_MS, gatewayCpuMs });
  };
  const backend = onLoadCpu(taskset, ECHO_SERVER);
  const rows: RoundTripRow[] = [];

  const floor = await startHttpFloor();
  try {
    pinned(floor.pid);
    rows.push(...(await run('http floor', 'none', streamableHttp(floor.url))));
  } finally {
    await floor.stop();
  }

  const serve = await startBenchGatehouse('all-in-one', backend);
  try {
    serve.processes.forEach((p) => pinned(p.pid));
    rows.push(...(await run('gatehouse serve', 'jwt', streamableHttp(serve.mcpUrl, serve.authorization.jwt))));
  } finally {
    await serve.stop();
  }

  // The bus of this topology runs on the gateway's core too, and is nobody else's.
  const nats = await startPinnedNats(taskset, GATEWAY_CPU);
  try {
    const distributed = await startBenchGatehouse('distributed', backend, { env: { NATS_URL: nats.url } });
    try {
      distributed.processes.forEach((p) => pinned(p.pid));
      pinned(nats.pid);
      rows.push(...(await run('gatehouse nats', 'jwt', streamableHttp(distributed.mcpUrl, distributed.authorization.jwt))));
    } finally {
      await distributed.stop();
    }
  } finally {
    await nats.stop();
  }

  for (const [target, start] of [
    ['supergateway', startSupergateway],
    ['mcp-proxy', startMcpProxy],
  ] as const) {
    const peer = await start(backend);
    try {
      pinned(peer.pid);
      // What it started besides backends (mcp-proxy's one backend is already running, on LOAD_CPU); one may have exited since.
      for (const pid of descendantPids(peer.pid).filter((p) => !isBackend(p))) {
        try {
          pinned(pid);
        } catch {
          // Gone: nothing to pin.
        }
      }
      rows.push(...(await run(target, 'none', streamableHttp(peer.url))));
    } finally {
      await peer.stop();
    }
  }
  return rows;
}

/** CPU milliseconds `pid` has used (user and system, all threads; Linux counts in ticks of 10 ms); 0 once it is gone. */
function cpuMsOf(pid: number): number {
  try {
    // The fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_SEC);
  } catch {
    return 0;
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
