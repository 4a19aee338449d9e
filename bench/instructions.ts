/**
 * Counts the instructions a lone call costs each process of Gatehouse and of its relay floor, with
 * valgrind's callgrind. A lone call's time moves by a third from one window to the next on a
 * shared host, so a change of a few µs never shows in it; an instruction count does not move with
 * the host (the windows of one run differ by a few percent, up to 16% when one holds a full garbage
 * collection or one more flush of the audit trail).
 *
 *   npm run bench:instructions -- [--topology nats|serve] [--process edge|runner] [--calls 300] [--windows 4] [--warmup 3000] [--profile 25] [--callers <name>]
 *
 * For each process (over NATS the edge and the runner, or the one named; in `serve` the one
 * process) it starts the relay floor, then Gatehouse with a JWT, with that process alone under
 * callgrind, and one SDK client on the Node.js echo server: `--warmup` calls unmeasured, then
 * `--windows` windows of `--calls` calls 2 ms apart, each counted on the process's main thread
 * from zeroed counters. Prints the median window's count per call (of an even number, the upper
 * of the two middle ones) and the range: a window that holds a full garbage collection counts more
 * than one that does not. With `--profile N` it also names where the instructions went: the process
 * runs with `--perf-basic-prof`, so that V8's compiled code has names, and for the median window it
 * prints the N functions whose own instructions a call exceed the floor's the most, and the N of
 * Gatehouse's own code (dist/apps, dist/libs) that cost the most with what they call. The profile
 * names what costs, not who called it: `--callers <name>` (repeatable) prints, for each function
 * of Gatehouse's median window whose name starts so, its callers a few levels up, each with what its
 * calls cost with their callees' (all of them, not only those on the way to that function): V8's
 * runtime is reached from builtins, and those from the JavaScript that used them.
 * A few minutes for each process: Gatehouse starts and warms up about fifty times slower under
 * valgrind. Needs valgrind (callgrind_control too) and, for `nats`, the nats-server binary.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ECHO_SERVER } from './fixtures/backends.js';
import { startRelayFloor } from './fixtures/floors.js';
import { startBenchGatehouse } from './gatehouse.js';
import { functionCosts, JitNames, type FunctionCost } from './lib/callgrind.js';
import { streamableHttp } from './lib/clients.js';
import { quietListenerWarnings } from './lib/listener-warning.js';
import { sessionCaller } from './lib/load.js';
import { median } from './lib/stats.js';
import { startTrackedNatsServer } from './lib/process-guard.js';

quietListenerWarnings((line) => console.error(`bench-instructions: ${line}`));

const { values: args } = parseArgs({
  options: {
    topology: { type: 'string', default: 'nats' },
    process: { type: 'string' },
    calls: { type: 'string', default: '300' },
    windows: { type: 'string', default: '4' },
    warmup: { type: 'string', default: '3000' },
    profile: { type: 'string' },
    callers: { type: 'string', multiple: true, default: [] },
  },
});
const CALLS = Number(args.calls);
const WINDOWS = Number(args.windows);
const WARMUP = Number(args.warmup);
if (args.topology !== 'nats' && args.topology !== 'serve') throw new Error('--topology is nats or serve');
const PROFILE = args.profile === undefined ? 0 : Number(args.profile);
if (!(CALLS > 0 && WINDOWS > 0 && WARMUP >= 0 && PROFILE >= 0)) throw new Error('--calls, --windows, --warmup and --profile are numbers');
const topology = args.topology;
const CALLERS_OF = args.callers;
/** Whether the counted process runs with V8's perf map, which names its compiled code. */
const NAMED = PROFILE > 0 || CALLERS_OF.length > 0;

/** A process measured: its role in Gatehouse (the CLI's command) and in the relay floor (the fixture's mode). */
const PROCESSES = (
  topology === 'nats'
    ? [
        { gatehouse: 'edge', floor: 'edge' },
        { gatehouse: 'runner', floor: 'runner' },
      ]
    : [{ gatehouse: 'serve', floor: 'stdio' }]
).filter((role) => args.process === undefined || role.gatehouse === args.process);
if (PROCESSES.length === 0) throw new Error(`--process names no process of ${topology}`);

const work = mkdtempSync(join(tmpdir(), 'gatehouse-instructions-'));
/** Stands in for `node` (GATEHOUSE_NODE): runs the process whose command is `role` under callgrind, any other as it is. */
const wrapper = join(work, 'node');

function countOnly(role: string): void {
  // With the perf map V8 writes a log of its own: into the work folder, not the current one.
  const profiling = NAMED ? `--perf-basic-prof --no-logfile-per-isolate --logfile=${join(work, 'v8.log')}` : '';
  const callgrind = [
    'valgrind',
    '--tool=callgrind',
    '--separate-threads=yes',
    // V8 writes the code it runs: valgrind must notice when it changes.
    '--smc-check=all-non-file',
    `--log-file=${join(work, 'valgrind.%p.log')}`,
    `--callgrind-out-file=${join(work, 'callgrind.%p')}`,
  ].join(' ');
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      'for arg in "$@"; do',
      `  if [ "$arg" = "${role}" ]; then exec ${callgrind} "${process.execPath}" ${profiling} "$@"; fi`,
      'done',
      `exec "${process.execPath}" "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
}

/** Starts the path measured, with `role` under callgrind; its URL, authorization, the counted pid, and how to stop it. */
async function start(
  which: 'floor' | 'gatehouse',
  role: { gatehouse: string; floor: string },
  natsUrl: string | undefined,
): Promise<{ url: string; authorization?: string; pid: number; stop: () => Promise<void> }> {
  if (which === 'floor') {
    countOnly(role.floor);
    const floor = await startRelayFloor(ECHO_SERVER, natsUrl);
    const [edge, runner] = floor.pids;
    const pid = role.floor === 'runner' ? runner : edge;
    if (pid === undefined) throw new Error(`the relay floor has no ${role.floor}`);
    return { url: floor.url, pid, stop: floor.stop };
  }
  countOnly(role.gatehouse);
  const kind = topology === 'nats' ? 'distributed' : 'all-in-one';
  const gatehouse = await startBenchGatehouse(kind, ECHO_SERVER, natsUrl === undefined ? {} : { env: { NATS_URL: natsUrl } });
  const pid = role.gatehouse === 'runner' ? gatehouse.runner.pid : gatehouse.edge.pid;
  return { url: gatehouse.mcpUrl, authorization: gatehouse.authorization.jwt, pid, stop: () => gatehouse.stop() };
}

/** Callgrind's `part`th dump of the main thread of `pid`: what it ran from the counters' zeroing to the dump. */
function mainThreadDump(pid: number, part: number): string {
  return readFileSync(join(work, `callgrind.${pid}.${part}-01`), 'utf8');
}

/** The instructions the main thread of `pid` ran between the counters' zeroing and their `part`th dump. */
function mainThreadCount(pid: number, part: number): number {
  const total = /^(?:summary|totals): (\d+)/m.exec(mainThreadDump(pid, part))?.[1];
  if (total === undefined) throw new Error(`callgrind's dump ${part} of ${pid} holds no total`);
  return Number(total);
}

/** What one path's process counted: instructions a call in each window, its pid, and the names of V8's code in it. */
interface Counted {
  counts: number[];
  pid: number;
  names: JitNames;
}

/** Where V8 writes the perf map of `pid` (with `--perf-basic-prof`). */
const perfMapOf = (pid: number) => `/tmp/perf-${pid}.map`;

/** Instructions a call in each window, and the names of the compiled code; the perf map is removed however the count ends. */
async function count(which: 'floor' | 'gatehouse', role: { gatehouse: string; floor: string }): Promise<Counted> {
  const nats = topology === 'nats' ? await startTrackedNatsServer() : undefined;
  try {
    const path = await start(which, role, nats?.url);
    try {
      const counts = await countWindows(path.url, path.authorization, path.pid);
      const perfMap = perfMapOf(path.pid);
      return { counts, pid: path.pid, names: new JitNames(existsSync(perfMap) ? readFileSync(perfMap, 'utf8') : '') };
    } finally {
      await path.stop();
      rmSync(perfMapOf(path.pid), { force: true });
    }
  } finally {
    await nats?.stop();
  }
}

/** One SDK client's calls: the warm-up, then each window counted from zeroed counters. */
async function countWindows(url: string, authorization: string | undefined, pid: number): Promise<number[]> {
  const caller = sessionCaller(await streamableHttp(url, authorization)());
  try {
    for (let i = 0; i < WARMUP; i++) await caller.call();
    const counts: number[] = [];
    for (let window = 1; window <= WINDOWS; window++) {
      execFileSync('callgrind_control', ['--zero', String(pid)], { stdio: 'ignore' });
      for (let i = 0; i < CALLS; i++) {
        await caller.call();
        // Apart, as a lone call is: each finds the process idle.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
      counts.push(mainThreadCount(pid, window) / CALLS);
    }
    return counts;
  } finally {
    await caller.close();
  }
}

/** Each function's instructions a call in the median window. */
function functionsPerCall({ counts, pid, names }: Counted): Map<string, FunctionCost> {
  const window = counts.indexOf(median(counts)) + 1;
  const functions = functionCosts(mainThreadDump(pid, window), names);
  for (const cost of functions.values()) {
    cost.self /= CALLS;
    cost.inclusive /= CALLS;
    for (const [caller, instructions] of cost.callers) cost.callers.set(caller, instructions / CALLS);
  }
  return functions;
}

/** Levels of callers `--callers` prints, and callers a level. */
const CALLER_DEPTH = 4;
const CALLERS_EACH = 3;

/** For each function named so, its own instructions a call and who called it, a few levels up. */
function printCallers(functions: Map<string, FunctionCost>, prefix: string): void {
  const up = (name: string, depth: number, seen: Set<string>): void => {
    if (depth > CALLER_DEPTH) return;
    const callers = [...(functions.get(name)?.callers ?? [])].sort(([, a], [, b]) => b - a).slice(0, CALLERS_EACH);
    for (const [caller, instructions] of callers) {
      if (seen.has(caller)) continue;
      console.log(`  ${'  '.repeat(depth)}${format(instructions).padStart(8)}  from ${caller}`);
      up(caller, depth + 1, new Set([...seen, caller]));
    }
  };
  const named = [...functions].filter(([name]) => name.startsWith(prefix));
  if (named.length === 0) console.log(`  callers: no function of the median window is named ${prefix}…`);
  for (const [name, cost] of named) {
    console.log(
      `  callers of ${name}, ${format(cost.self)} of its own a call; above it, what each caller's calls cost with their callees':`,
    );
    up(name, 1, new Set([name]));
  }
}

/** The functions whose own instructions exceed the floor's the most, and Gatehouse's own code by what it costs with its callees. */
function printProfile(floor: Map<string, FunctionCost>, gatehouse: Map<string, FunctionCost>): void {
  const above = [...gatehouse]
    .map(([name, cost]) => ({ name, more: cost.self - (floor.get(name)?.self ?? 0) }))
    .sort((a, b) => b.more - a.more)
    .slice(0, PROFILE);
  console.log(`  own instructions a call above the relay floor's (the ${PROFILE} largest):`);
  for (const { name, more } of above) console.log(`  ${format(more).padStart(8)}  ${name}`);
  const own = [...gatehouse]
    .filter(([name]) => /\/dist\/(apps|libs)\//.test(name))
    .sort(([, a], [, b]) => b.inclusive - a.inclusive)
    .slice(0, PROFILE);
  console.log(`  Gatehouse's own code, instructions a call with what it calls (the ${PROFILE} largest):`);
  for (const [name, cost] of own) console.log(`  ${format(cost.inclusive).padStart(8)}  ${name}`);
}

process.env.GATEHOUSE_NODE = wrapper;
// Nest starts its modules and auth logs in about fifty times slower under valgrind.
process.env.GATEHOUSE_START_TIMEOUT_MS = '600000';
const format = (n: number) => Math.round(n).toLocaleString('en-US');
const range = (counts: number[]) => `${format(Math.min(...counts))}–${format(Math.max(...counts))}`;
try {
  console.log(
    `instructions a call on the main thread, ${topology}: median of ${WINDOWS} windows of ${CALLS} calls after ${WARMUP}, and their range`,
  );
  for (const role of PROCESSES) {
    const floor = await count('floor', role);
    const gatehouse = await count('gatehouse', role);
    const [f, g] = [floor.counts, gatehouse.counts];
    console.log(
      `${role.gatehouse}: relay floor ${format(median(f))} (${range(f)}), Gatehouse ${format(median(g))} (${range(g)}), difference ${format(median(g) - median(f))}`,
    );
    if (NAMED) {
      const functions = functionsPerCall(gatehouse);
      if (PROFILE > 0) printProfile(functionsPerCall(floor), functions);
      for (const prefix of CALLERS_OF) printCallers(functions, prefix);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
