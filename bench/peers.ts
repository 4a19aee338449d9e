/**
 * The peer gateways the benchmark compares Gatehouse with: npm packages that bridge a stdio MCP
 * server to streamable HTTP, without auth. Each runs as its own CLI, as users run it, reached at
 * 127.0.0.1 on a free port, stateful; stop() takes down the peer and every backend it spawned.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { childProcessBaseEnvironment } from '#config';
import { descendantPids, eventually, freePort, isAlive, REPO_ROOT } from '#testing';
import type { BackendCommand } from './fixtures/backends.js';
import { signalTree, track, untrack } from './lib/process-guard.js';

export interface RunningPeer {
  name: string;
  /** The streamable-HTTP MCP endpoint. */
  url: string;
  /** The peer's own process, leader of its process group. */
  pid: number;
  /** SIGTERM, SIGKILL after 2 s; resolves once the peer and every process below it are gone. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 2_000;
const LOG_KEPT_CHARS = 64 * 1024;

/**
 * supergateway, stateful streamable HTTP. Per MCP session it spawns its own backend, through
 * `sh -c` (`--stdio` is a command line), in a process group of its own, and kills that group on
 * DELETE, on the backend's exit, or after `--sessionTimeout` of idleness (30 min when absent).
 * It has no host flag: it listens on every interface. Its logs are off: `info` writes every
 * message, and Gatehouse runs at `warn`.
 */
export async function startSupergateway(backend: BackendCommand): Promise<RunningPeer> {
  const port = await freePort();
  // `exec`: the shell becomes the backend, so a session costs one process, as in Gatehouse.
  const stdio = ['exec', ...[backend.command, ...backend.args].map(shellQuote)].join(' ');
  const args = ['--stdio', stdio, '--outputTransport', 'streamableHttp', '--stateful', '--port', String(port)];
  return launch(
    'supergateway',
    'node_modules/supergateway/dist/index.js',
    [...args, '--streamableHttpPath', '/mcp', '--logLevel', 'none'],
    port,
  );
}

/**
 * mcp-proxy (punkpeye), streamable HTTP only, stateful (its default). Its CLI spawns ONE backend
 * at startup, before it listens, and every MCP session gets its own proxy `Server` in front of
 * that one shared upstream client: it has no flag for a backend per session.
 */
export async function startMcpProxy(backend: BackendCommand): Promise<RunningPeer> {
  const port = await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '--server', 'stream', '--streamEndpoint', '/mcp'];
  return launch('mcp-proxy', 'node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs', [...args, '--', backend.command, ...backend.args], port);
}

async function launch(name: string, script: string, args: string[], port: number): Promise<RunningPeer> {
  // Detached: the peer leads a process group, so one signal reaches it and what it spawned.
  // Its stdin stays an open pipe: supergateway shuts down when stdin closes.
  // The environment Gatehouse gives its backends: nothing of the developer's shell, and a like-for-like start-up.
  const env = childProcessBaseEnvironment();
  const child = spawn(process.execPath, [join(REPO_ROOT, script), ...args], { cwd: REPO_ROOT, detached: true, stdio: 'pipe', env });
  const { pid } = child;
  if (pid === undefined) throw new Error(`${name} did not start: ${await spawnError(child)}`);
  track(pid);
  const log = captureLog(child);
  unref(child);
  let stopping: Promise<void> | undefined;
  const url = `http://127.0.0.1:${port}/mcp`;
  const peer: RunningPeer = { name, url, pid, stop: () => (stopping ??= stopTree(pid)) };
  try {
    await waitUntilServing(name, new URL(url), child, log);
    return peer;
  } catch (err) {
    await peer.stop();
    throw err;
  }
}

/** Polls with a real SDK client until a session initializes and `echo` answers (or `ping`, for a backend without it). */
async function waitUntilServing(name: string, url: URL, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited during startup (${child.exitCode ?? child.signalCode}); its output ends:\n${tail(log())}`);
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new Error(
        `${name} did not serve MCP at ${url.href} within ${STARTUP_TIMEOUT_MS} ms (${reason}); its output ends:\n${tail(log())}`,
      );
    }
    try {
      return await probe(url, Math.min(remaining, 5_000));
    } catch (err) {
      lastError = err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function probe(url: URL, timeout: number): Promise<void> {
  const transport = new StreamableHTTPClientTransport(url);
  const client = new Client({ name: 'bench-probe', version: '1.0.0' });
  try {
    await client.connect(transport, { timeout });
    const { tools } = await client.listTools(undefined, { timeout });
    if (tools.some((tool) => tool.name === 'echo')) await checkEcho(client, timeout);
    else await client.ping({ timeout });
  } finally {
    // DELETE the probe's session, or its backend would live on for the peer's idle timeout.
    await transport.terminateSession().catch(() => undefined);
    await client.close();
  }
}

async function checkEcho(client: Client, timeout: number): Promise<void> {
  const result = await client.callTool({ name: 'echo', arguments: { message: 'ready' } }, undefined, { timeout });
  if (JSON.stringify(result.content) !== JSON.stringify([{ type: 'text', text: 'Echo: ready' }])) {
    throw new Error(`echo answered ${JSON.stringify(result)}`);
  }
}

async function stopTree(pid: number): Promise<void> {
  // Taken before the peer dies: its backends are then re-parented and out of reach.
  const tree = descendantPids(pid);
  // SIGTERM to the peer's group only, so that it stops its own backends first.
  signalTree(pid, [], 'SIGTERM');
  if (!(await allGone([pid, ...tree], STOP_GRACE_MS))) {
    signalTree(pid, tree, 'SIGKILL');
    if (!(await allGone([pid, ...tree], 5_000))) {
      throw new Error(`processes still alive after SIGKILL: ${[pid, ...tree].filter(isAlive).join(', ')}`);
    }
  }
  untrack(pid);
}

/** Whether every one of `pids` has exited within `timeoutMs`. */
function allGone(pids: readonly number[], timeoutMs: number): Promise<boolean> {
  return eventually(() => !pids.some(isAlive), 'still alive', timeoutMs).then(
    () => true,
    () => false,
  );
}

/** Keeps the last 64 KiB of the peer's stdout and stderr, to show on a startup failure. */
function captureLog(child: ChildProcess): () => string {
  let kept = '';
  const keep = (chunk: Buffer): void => {
    kept = (kept + chunk.toString('utf8')).slice(-LOG_KEPT_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => kept;
}

/** A benchmark that ends without stopping a peer still exits, and the process guard kills the peer then. */
function unref(child: ChildProcess): void {
  child.unref();
  for (const pipe of [child.stdin, child.stdout, child.stderr]) if (pipe instanceof Socket) pipe.unref();
}

function tail(output: string, lines = 20): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n') || '(nothing)';
}

async function spawnError(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => child.once('error', (err) => resolve(err.message)));
}

/** One word for `sh -c`, whatever it contains. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
