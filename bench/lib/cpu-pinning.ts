/**
 * CPU affinity with taskset (util-linux): the pinned throughput runs put a gateway's processes on one
 * core and the load (the bench process, its clients, every backend) on the other, so that neither
 * takes the other's time and calls/s says what one core of gateway serves.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import type { BackendCommand } from '../fixtures/backends.js';

/** The core of the gateway's processes. */
export const GATEWAY_CPU = 0;
/** The core of the bench process and every backend. */
export const LOAD_CPU = 1;

const TASKSET = ['/usr/bin/taskset', '/bin/taskset'].find((path) => existsSync(path));

/** The taskset executable, or why the pinned runs cannot happen on this machine. */
export function pinning(): { taskset: string } | { skipped: string } {
  if (TASKSET === undefined) return { skipped: 'taskset (util-linux) is not installed' };
  if (cpus().length <= LOAD_CPU) return { skipped: `the machine has ${cpus().length} core(s); pinning needs two` };
  return { taskset: TASKSET };
}

/** Pins process `pid` and every thread it has now (`taskset -a`) to `cpuList` ("0", "1", "0,1"). */
export function pin(taskset: string, pid: number, cpuList: string): void {
  execFileSync(taskset, ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

/** The cores `pid` may run on, as taskset writes them ("0,1", "0-3"). */
function affinity(taskset: string, pid: number): string {
  const line = execFileSync(taskset, ['-p', '-c', String(pid)], { encoding: 'utf8' });
  const list = /list:\s*(\S+)/.exec(line)?.[1];
  if (list === undefined) throw new Error(`taskset did not say the affinity of ${pid}: ${line}`);
  return list;
}

/**
 * Runs `work` with this process and all its threads pinned to LOAD_CPU; what it spawns inherits the
 * pin. Puts back the affinity it found afterwards, whether `work` succeeded or not.
 */
export async function withLoadPinned<T>(taskset: string, work: () => Promise<T>): Promise<T> {
  const before = affinity(taskset, process.pid);
  pin(taskset, process.pid, String(LOAD_CPU));
  try {
    return await work();
  } finally {
    pin(taskset, process.pid, before);
  }
}

/** The backend started on LOAD_CPU, whoever spawns it: taskset sets the core and execs it, no extra process. */
export function onLoadCpu(taskset: string, backend: BackendCommand): BackendCommand {
  return { command: taskset, args: ['-c', String(LOAD_CPU), backend.command, ...backend.args] };
}

/** Busy and total time of core `cpu` so far, in clock ticks, from /proc/stat. */
export function coreTicks(cpu: number): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (line === undefined) throw new Error(`/proc/stat has no line for cpu${cpu}`);
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  // idle and iowait are the fourth and fifth figures.
  return { busy: total - (ticks[3] ?? 0) - (ticks[4] ?? 0), total };
}

/**
 * Waits until core `cpu` is busy less than `busyShare` of a second, at most `limitMs`: whether it got
 * there. What starting sessions leaves running on the load's core (backends still starting up; a
 * Node.js backend works for half a minute, its collector and compiler on their threads) would slow
 * the calls measured next.
 */
export async function waitForQuietCore(cpu: number, busyShare: number, limitMs: number): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  let before = coreTicks(cpu);
  while (Date.now() < deadline) {
    await delay(1000);
    const now = coreTicks(cpu);
    const share = (now.busy - before.busy) / Math.max(1, now.total - before.total);
    if (share < busyShare) return true;
    before = now;
  }
  return false;
}
