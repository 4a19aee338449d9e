import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CLI, eventually } from '#testing';
import { EVERYTHING } from './support/gateway-config.js';
import { JSON_HEADERS, rawInitialize, rawPost } from './support/raw-mcp.js';

/** What `gatehouse serve` is given to stop in (README, "Command line"). */
const SHUTDOWN_GRACE_MS = 15000;
/**
 * Backend stderr the gateway logs: each session's lines are cut at 4 KiB and logged at most 100 at
 * once and 20 a second after, so 8 sessions chattering for 5 s log about 8 × 200 × 4 KiB, twice
 * the 4 MiB backlog the gateway keeps.
 */
const SESSIONS = 8;
const CHATTER_MS = 5000;
const TOKEN = 'slow-log-token-0123456789abcdef';

/**
 * server-everything (a real MCP server) that writes a 4.8 KB stderr line every 10 ms for
 * `duration` ms, then a marker file named after its pid.
 */
const CHATTY_BACKEND = `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
const [, markers, everything, duration] = process.argv;
process.argv.length = 1; // server-everything takes its transport from argv; the default is stdio
const line = 'chatter '.repeat(600) + '\\n';
const end = Date.now() + Number(duration);
const timer = setInterval(() => {
  process.stderr.write(line);
  if (Date.now() < end) return;
  clearInterval(timer);
  writeFileSync(join(markers, String(process.pid)), 'done');
}, 10);
await import(everything);
`;

interface StuckGateway {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<{ code: number | null; at: number }>;
}

/** `gatehouse serve` whose stdout is a pipe nobody reads: a stuck log shipper. Its stderr is read. */
function serveWithStuckStdout(configPath: string): StuckGateway {
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configPath, '--addr', '127.0.0.1:0'], {
    env: { ...process.env, LOG_LEVEL: 'info', SLOW_LOG_TOKEN: TOKEN, GATEHOUSE_DATA_DIR: join(dirname(configPath), 'data') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: Date.now() })),
  );
  return { child, stderr: () => text, exited };
}

describe('a log consumer that stops reading', () => {
  let dir: string;
  let gateway: StuckGateway | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-slow-log-'));
  });

  afterAll(async () => {
    if (gateway && gateway.child.exitCode === null && gateway.child.signalCode === null) {
      gateway.child.kill('SIGKILL');
      await gateway.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('neither blocks the gateway nor keeps it from stopping within the grace period', async () => {
    const markers = mkdtempSync(join(dir, 'chatter-'));
    const configPath = join(dir, 'config.json');
    const chatty = {
      transportType: 'stdio',
      command: process.execPath,
      args: ['--input-type=module', '-e', CHATTY_BACKEND, markers, EVERYTHING, String(CHATTER_MS)],
      serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'SLOW_LOG_TOKEN' }] }],
    };
    const config = { version: 'v1', proxy: { baseURL: 'http://127.0.0.1:8080' }, mcpServers: { chatty } };
    writeFileSync(configPath, JSON.stringify(config));
    gateway = serveWithStuckStdout(configPath);
    const stuck = gateway;
    await eventually(() => /listening on [^\s:]+:\d+/.test(stuck.stderr()), `gatehouse did not start:\n${stuck.stderr()}`, 20000);
    const port = /listening on [^\s:]+:(\d+)/.exec(stuck.stderr())?.[1];
    const url = `http://127.0.0.1:${port}/chatty/mcp`;

    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => rawInitialize(url, `Bearer ${TOKEN}`)));
    const sessionId = sessions[0] ?? '';
    await eventually(() => readdirSync(markers).length === SESSIONS, 'the backends did not get their chatter out', 60000);

    // Still serving while its log output is stuck.
    const headers = {
      ...JSON_HEADERS,
      authorization: `Bearer ${TOKEN}`,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    };
    const ping = await rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }), headers);
    expect(ping.status).toBe(200);
    expect(ping.json).toMatchObject({ jsonrpc: '2.0', id: 2, result: {} });

    const signalled = Date.now();
    stuck.child.kill('SIGTERM');
    const killer = setTimeout(() => stuck.child.kill('SIGKILL'), SHUTDOWN_GRACE_MS + 5000);
    const { code, at } = await stuck.exited;
    clearTimeout(killer);
    const elapsed = at - signalled;
    expect({ code, withinGrace: elapsed < SHUTDOWN_GRACE_MS }).toEqual({ code: 0, withinGrace: true });
    const dropped = /dropped (\d+) log lines/.exec(stuck.stderr());
    expect(Number(dropped?.[1])).toBeGreaterThan(0);
  }, 120000);
});
