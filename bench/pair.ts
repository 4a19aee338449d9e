/**
 * Compares the gateway CPU per call of two builds of Gatehouse, measured in pairs: both run at once,
 * pinned to core 0 with the load on core 1 (as the benchmark's pinned rows), each with its sessions
 * open, and their calls are measured in alternating windows. Single benchmark runs on a shared
 * machine drift by more than most changes are worth; windows a few seconds apart do not.
 *
 *   npm run bench:pair -- --old DIR [--new DIR] [--topology serve|nats] [--sessions 16] [--rounds 8] [--window-ms 3000]
 *
 * DIR is a checkout of Gatehouse that has been built (`npm ci && npm run build`); --new defaults to
 * this checkout, which `npm run bench:pair` builds first. Prints each round's CPU per call (user + system time of every gateway
 * process, and of the topology's own nats-server, over the window's calls) and its median call's
 * round trip, and the medians of the new-to-old ratios of both. The first rounds still include JIT warm-up; read the later ones.
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuMs, REPO_ROOT } from '#testing';
import type * as Testing from '#testing';
import type * as Backends from './fixtures/backends.js';
import type * as Gatehouse from './gatehouse.js';
import type * as Clients from './lib/clients.js';
import type * as Pinning from './lib/cpu-pinning.js';
import type * as Load from './lib/load.js';
import { quietListenerWarnings } from './lib/listener-warning.js';
import { callFor, type Caller } from './lib/load.js';
import { median } from './lib/stats.js';

quietListenerWarnings((line) => console.error(`bench-pair: ${line}`));

const TASKSET = '/usr/bin/taskset';
const WARMUP_WINDOWS = 2;

const { values: args } = parseArgs({
  options: {
    old: { type: 'string' },
    new: { type: 'string', default: REPO_ROOT },
    topology: { type: 'string', default: 'nats' },
    sessions: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '8' },
    'window-ms': { type: 'string', default: '3000' },
  },
});

interface Build {
  processes: { name: string; pid: number }[];
  callers: Caller[];
  stop(): Promise<void>;
}

interface Measured {
  /** Gateway CPU per call, in µs: all its processes, and each. */
  total: number;
  perProcess: number[];
  /** The median call's round trip, in ms. */
  p50: number;
}

/** Starts one build's topology, pinned, with `sessions` SDK clients connected to it; its own modules, whatever this one's are. */
async function start(dir: string, topology: 'serve' | 'nats', sessions: number): Promise<Build> {
  const load = async <T>(path: string): Promise<T> => (await import(resolve(dir, 'dist', path))) as T;
  const { startBenchGatehouse } = await load<typeof Gatehouse>('bench/gatehouse.js');
  const { ECHO_SERVER } = await load<typeof Backends>('bench/fixtures/backends.js');
  const { sessionCaller } = await load<typeof Load>('bench/lib/load.js');
  const { streamableHttp } = await load<typeof Clients>('bench/lib/clients.js');
  const { onLoadCpu, pin } = await load<typeof Pinning>('bench/lib/cpu-pinning.js');
  const { freePort, startPrivateNatsServer } = await load<typeof Testing>('libs/testing/src/index.js');
  pin(TASKSET, process.pid, '1');
  const nats = topology === 'nats' ? await startPrivateNatsServer(await freePort()) : undefined;
  let gatehouse: Gatehouse.RunningGatehouse;
  try {
    const kind = topology === 'nats' ? 'distributed' : 'all-in-one';
    gatehouse = await startBenchGatehouse(kind, onLoadCpu(TASKSET, ECHO_SERVER), { env: nats ? { NATS_URL: nats.url } : {} });
  } catch (err) {
    await nats?.close();
    throw err;
  }
  const stop = async () => {
    await gatehouse.stop();
    await nats?.close();
  };
  try {
    const processes = gatehouse.processes.map((p) => ({ name: p.args[0] ?? 'gatehouse', pid: p.pid }));
    const natsPid = nats?.pid();
    if (natsPid !== undefined) processes.push({ name: 'nats-server', pid: natsPid });
    for (const p of processes) pin(TASKSET, p.pid, '0');
    const connect = streamableHttp(gatehouse.mcpUrl, gatehouse.authorization.jwt);
    const callers: Caller[] = [];
    for (let i = 0; i < sessions; i++) callers.push(sessionCaller(await connect()));
    return { processes, callers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Calls for `ms` on every session of `build`: its gateway CPU per call. */
async function measure(build: Build, ms: number): Promise<Measured> {
  // NaN for a process that is gone: its time would be missing, and the figure says so.
  const cpu = (pid: number) => cpuMs(pid) ?? Number.NaN;
  const before = build.processes.map((p) => cpu(p.pid));
  const { samples } = await callFor(build.callers, ms);
  const calls = samples.length;
  const perProcess = build.processes.map((p, i) => ((cpu(p.pid) - (before[i] ?? Number.NaN)) * 1000) / calls);
  return { total: perProcess.reduce((a, b) => a + b, 0), perProcess, p50: median(samples) };
}

function describe(m: Measured, build: Build): string {
  const parts = build.processes.map((p, i) => `${p.name} ${Math.round(m.perProcess[i] ?? Number.NaN)}`).join(', ');
  return `${Math.round(m.total)} µs/call (${parts}), p50 ${m.p50.toFixed(2)} ms`;
}

function positive(name: 'sessions' | 'rounds' | 'window-ms'): number {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1) fail(`--${name} must be a positive whole number`);
  return value;
}

function fail(message: string): never {
  console.error(`bench-pair: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { old: oldDir, new: newDir = REPO_ROOT, topology } = args;
  if (oldDir === undefined) fail('--old DIR is required: a built checkout of the code to compare with');
  if (topology !== 'serve' && topology !== 'nats') fail('--topology is serve or nats');
  if (cpus().length < 2) fail('pinning needs two cores');
  if (!existsSync(TASKSET)) fail(`pinning needs ${TASKSET} (util-linux)`);
  const sessions = positive('sessions');
  const rounds = positive('rounds');
  const windowMs = positive('window-ms');
  const old = await start(oldDir, topology, sessions);
  let current: Build | undefined;
  try {
    current = await start(newDir, topology, sessions);
    for (let i = 0; i < WARMUP_WINDOWS; i++) for (const build of [old, current]) await measure(build, windowMs);
    const ratios: number[] = [];
    const p50Ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Each goes first every other round, so neither always follows the other.
      const first = round % 2 === 0 ? old : current;
      const second = first === old ? current : old;
      const a = await measure(first, windowMs);
      const b = await measure(second, windowMs);
      const [before, after] = first === old ? [a, b] : [b, a];
      ratios.push(after.total / before.total);
      p50Ratios.push(after.p50 / before.p50);
      console.log(
        `round ${round + 1}: old ${describe(before, old)} | new ${describe(after, current)} | new/old ${(after.total / before.total).toFixed(3)}`,
      );
    }
    console.log(
      `${topology}, ${sessions} sessions, over ${rounds} rounds: median new/old CPU per call ${median(ratios).toFixed(3)}, p50 ${median(p50Ratios).toFixed(3)}`,
    );
  } finally {
    await current?.stop();
    await old.stop();
  }
}

// The SDK clients keep their connections: the process ends here, once everything it started is stopped.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
