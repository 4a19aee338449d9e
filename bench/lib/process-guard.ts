/**
 * The benchmark stops every process it started, whatever happens: each process group it
 * spawns is tracked here and SIGKILLed, with everything below it, when the benchmark exits,
 * is interrupted or crashes before stopping it.
 */
import { constants } from 'node:os';
import { descendantPids, freePort, startPrivateNatsServer } from '#testing';

const tracked = new Set<number>();
let installed = false;

/** Registers the leader of a process group (spawned detached) to kill if the benchmark ends first. */
export function track(pid: number): void {
  install();
  tracked.add(pid);
}

/** Forgets a process group once it has been stopped. */
export function untrack(pid: number): void {
  tracked.delete(pid);
}

/** A nats-server of the benchmark's own on a free port, tracked until `stop`: no other suite's traffic on it. */
export async function startTrackedNatsServer(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const nats = await startPrivateNatsServer(await freePort());
  const pid = nats.pid();
  if (pid === undefined) {
    await nats.close();
    throw new Error("the benchmark's nats-server is not running");
  }
  track(pid);
  const stop = async () => {
    await nats.close();
    untrack(pid);
  };
  return { url: nats.url, pid, stop };
}

/**
 * Sends `signal` to the group `pid` leads and to each of `tree` and its group: a peer may start
 * its backends in process groups of their own, which killing its group alone would not reach.
 */
export function signalTree(pid: number, tree: readonly number[], signal: NodeJS.Signals): void {
  for (const target of [-pid, ...tree.flatMap((child) => [-child, child])]) {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone, or not a group leader.
    }
  }
}

function killTracked(): void {
  for (const pid of tracked) signalTree(pid, descendantPids(pid), 'SIGKILL');
  tracked.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killTracked);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killTracked();
      process.exit(128 + constants.signals[signal]);
    });
  }
  const crash = (err: unknown): void => {
    console.error(err);
    killTracked();
    process.exit(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}
