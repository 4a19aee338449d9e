/**
 * A nats-server of the bench's own (JetStream, a store of its own, a free port), started on one core
 * with taskset: the pinned NATS topology's bus runs on the gateway's core, and the shared server on
 * 4222 is neither pinned nor loaded.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '#testing';
import { signalTree, track, untrack } from './process-guard.js';

export interface PrivateNats {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 10_000;

export async function startPinnedNats(taskset: string, cpu: number): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), `gatehouse-bench-nats-${port}-`));
  const args = ['-c', String(cpu), 'nats-server', '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir];
  const child = spawn(taskset, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const pid = child.pid;
  if (pid === undefined) throw new Error('nats-server did not start');
  track(pid);
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      signalTree(pid, [], 'SIGTERM');
      await exited;
    }
    untrack(pid);
    rmSync(storeDir, { recursive: true, force: true });
  };
  try {
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server on ${port} did not start:\n${log.slice(-2000)}`)), STARTUP_TIMEOUT_MS);
      for (const stream of [child.stdout, child.stderr]) {
        stream.on('data', (chunk: Buffer) => {
          log += chunk.toString('utf8');
          if (!log.includes('Server is ready')) return;
          clearTimeout(timer);
          resolve();
        });
      }
      child.once('exit', (code) => reject(new Error(`nats-server on ${port} exited (${code}):\n${log.slice(-2000)}`)));
    });
    return { url: `nats://127.0.0.1:${port}`, pid, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
