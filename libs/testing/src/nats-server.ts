import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childProcessBaseEnvironment } from '#config';
import { eventually } from './processes.js';

/** A nats-server of a suite's own, with JetStream and a store directory that outlives restarts. */
export interface PrivateNatsServer {
  url: string;
  storeDir: string;
  /** Stops the server (SIGTERM) and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops the server; it can be started again with `start`. */
  stopServer(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its store. */
  close(): Promise<void>;
  /** What the server has logged since it first started. */
  output(): string;
  /** The running server's process id; undefined while it is stopped. */
  pid(): number | undefined;
}

/**
 * Starts `nats-server -js` on 127.0.0.1:`port`, never the shared 4222: suites that restart NATS
 * or flood it, and the benchmark's pinned runs, must not disturb anyone else's. Refuses a port
 * something already listens on. The server gets the base environment, none of the caller's secrets.
 */
export async function startPrivateNatsServer(port: number): Promise<PrivateNatsServer> {
  if (await listening(port)) throw new Error(`port ${port} is in use: stop what listens there, or give the suite another port`);
  const storeDir = mkdtempSync(join(tmpdir(), `gatehouse-nats-${port}-`));
  let child: ChildProcess | undefined;
  let log = '';
  const start = async () => {
    const started = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], {
      env: childProcessBaseEnvironment(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = started;
    // This start's own output: an earlier start's "Server is ready" must not count.
    const from = log.length;
    for (const stream of [started.stdout, started.stderr]) stream.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
    const ready = () => log.indexOf('Server is ready', from) >= 0;
    await eventually(() => ready() || started.exitCode !== null, `nats-server on ${port} did not start`, 10_000);
    if (started.exitCode !== null) throw new Error(`nats-server on ${port} exited (${started.exitCode}):\n${log.slice(-2000)}`);
  };
  const stopServer = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    running.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    storeDir,
    restart: async () => {
      await stopServer();
      await start();
    },
    stopServer,
    start,
    close: async () => {
      await stopServer();
      rmSync(storeDir, { recursive: true, force: true });
    },
    output: () => log,
    pid: () => child?.pid,
  };
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
