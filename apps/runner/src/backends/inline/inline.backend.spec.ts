import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { InlineServerConfig, InlineToolConfig } from '#config';
import type { JsonRpcMessage } from '#contracts';
import { createLogger } from '#observability';
import { childPids, eventually, isAlive } from '#testing';
import { readFileSync } from 'node:fs';
import { NodeProcessSpawner } from '../../process/child-process.js';
import { GUARD_END_REASON } from '../backend.port.js';
import { InlineBackend, MAX_RUNNING_CALLS } from './inline.backend.js';

const spawner = new NodeProcessSpawner({ timings: { stdinGraceMs: 100, termGraceMs: 300, killWaitMs: 500 }, supervise: false });
const context = { sessionId: 'session-1', sub: 'alice', server: 'ops' };
let dir: string;
const backends: InlineBackend[] = [];

beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'gatehouse-inline-'))));
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A tool running `node -e script` with `args` after it. */
function nodeTool(name: string, script: string, fields: Partial<InlineToolConfig> = {}): InlineToolConfig {
  return {
    name,
    inputSchema: { type: 'object' },
    command: process.execPath,
    env: {},
    timeoutMs: 10_000,
    maxOutputBytes: 1024,
    ...fields,
    args: ['-e', script, '--', ...(fields.args ?? [])],
  };
}

const SLEEPER = 'process.stdout.write(String(process.pid)); setInterval(() => {}, 1000)';

/** A tool that sleeps until killed, marked so the spec can find its processes. */
const sleeper = (name: string, marker: string, fields: Partial<InlineToolConfig> = {}) =>
  nodeTool(name, SLEEPER, { ...fields, args: [marker] });

/** This process's children running with `marker` on their command line. */
function runningPids(marker: string): number[] {
  const cmdline = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  };
  return childPids(process.pid).filter((pid) => cmdline(pid).includes(marker));
}

function server(tools: InlineToolConfig[], description?: string): InlineServerConfig {
  return {
    name: 'ops',
    transportType: 'inline',
    timeoutMs: 30_000,
    serviceAuths: [],
    runnerGroup: 'default',
    tools,
    ...(description && { description }),
  };
}

/** An inline backend, started and initialized, with what it sent and logged. */
async function connect(config: InlineServerConfig, childBaseEnv: Record<string, string> = {}) {
  const output = new PassThrough();
  const logLines: Record<string, unknown>[] = [];
  output.on('data', (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .forEach((l) => logLines.push(JSON.parse(l) as Record<string, unknown>)),
  );
  const backend = new InlineBackend(
    config,
    { spawner, childBaseEnv, log: createLogger({ service: 'test', destination: output }) },
    context,
  );
  backends.push(backend);
  const sent: JsonRpcMessage[] = [];
  const waiters = new Map<unknown, (m: JsonRpcMessage) => void>();
  backend.onmessage = (m) => {
    sent.push(m);
    waiters.get(m.id)?.(m);
  };
  let nextId = 0;
  const request = (method: string, params: Record<string, unknown> = {}, id: string | number = ++nextId) =>
    new Promise<JsonRpcMessage>((resolve) => {
      waiters.set(id, resolve);
      backend.send({ jsonrpc: '2.0', id, method, params });
    });
  await backend.start();
  const initialized = await request('initialize', {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'spec', version: '0' },
  });
  backend.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return { backend, sent, logLines, request, initialized };
}

const call = (name: string, args?: Record<string, unknown>) => ({ name, ...(args && { arguments: args }) });

describe('InlineBackend', () => {
  it('initializes as an MCP server with tools and the description as instructions', async () => {
    const { initialized, request } = await connect(server([nodeTool('a', '')], 'Ops helpers'));
    expect(initialized.result).toEqual({
      protocolVersion: '2025-06-18',
      capabilities: { tools: {} },
      serverInfo: { name: 'ops', version: '1.0.0' },
      instructions: 'Ops helpers',
    });
    expect(await request('ping')).toEqual({ jsonrpc: '2.0', id: 2, result: {} });
    expect(await request('resources/list')).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'Method not found' } });
  });

  it('lists its tools with their schemas', async () => {
    const schema = { type: 'object', properties: { q: { type: 'string' } } };
    const { request } = await connect(server([nodeTool('a', '', { description: 'Tool A', inputSchema: schema }), nodeTool('b', '')]));
    expect((await request('tools/list')).result).toEqual({
      tools: [
        { name: 'a', description: 'Tool A', inputSchema: schema },
        { name: 'b', inputSchema: { type: 'object' } },
      ],
    });
  });

  it('runs a call with templated args and env over the allowlisted environment', async () => {
    const script = 'process.stdout.write(JSON.stringify({ argv: process.argv.slice(1), env: process.env }))';
    const tool = nodeTool('echo', script, {
      args: ['{{text}}', '{{n}}'],
      env: { MODE: 'x{{text}}' },
      inputSchema: { type: 'object', properties: { n: { default: 5 } } },
    });
    const { request } = await connect(server([tool]), { PATH: '/usr/bin:/bin' });
    const response = await request('tools/call', call('echo', { text: '$(id) `id`; rm -rf /' }));
    expect(response.result).toEqual({ content: [{ type: 'text', text: expect.any(String) }] });
    expect(JSON.parse(textOf(response))).toEqual({
      argv: ['$(id) `id`; rm -rf /', '5'],
      env: { PATH: '/usr/bin:/bin', MODE: 'x$(id) `id`; rm -rf /' },
    });
  });

  it('refuses arguments that break the schema, as a tool error, before anything runs', async () => {
    const marker = join(dir, 'ran');
    const tool = nodeTool('mark', 'require("node:fs").writeFileSync(process.argv[1], "ran")', {
      args: [marker],
      inputSchema: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
    });
    const { request } = await connect(server([tool]));
    expect((await request('tools/call', call('mark', { count: 'two' }))).result).toEqual({
      content: [{ type: 'text', text: 'Invalid arguments for tool mark: arguments/count must be integer' }],
      isError: true,
    });
    expect(existsSync(marker)).toBe(false);
    expect((await request('tools/call', call('mark', { count: 2 }))).result).toEqual({ content: [{ type: 'text', text: '' }] });
    expect(existsSync(marker)).toBe(true);
  });

  it('answers an unknown tool with -32602', async () => {
    const { request } = await connect(server([nodeTool('a', '')]));
    expect((await request('tools/call', call('nope'))).error).toEqual({ code: -32602, message: 'Unknown tool: "nope"' });
  });

  it('reports a non-zero exit, a timeout and a cut output in the result', async () => {
    const tools = [
      nodeTool('fail', 'process.stdout.write("partial"); console.error("it broke"); process.exitCode = 4'),
      sleeper('hang', 'marker-timeout', { timeoutMs: 300 }),
      nodeTool('flood', 'process.stdout.write("z".repeat(3000))', { maxOutputBytes: 1000 }),
    ];
    const { request } = await connect(server(tools));
    expect((await request('tools/call', call('fail'))).result).toEqual({
      content: [
        { type: 'text', text: 'partial' },
        { type: 'text', text: '[The command exited with code 4.]\nstderr (the end of it):\nit broke' },
      ],
      isError: true,
    });
    const hang = await request('tools/call', call('hang'));
    expect(hang.result).toEqual({
      content: [
        { type: 'text', text: expect.stringMatching(/^\d+$/) },
        {
          type: 'text',
          text: '[Timed out after 300 ms: the command and every process it started were killed.] It wrote nothing to stderr.',
        },
      ],
      isError: true,
    });
    await eventually(() => !isAlive(Number(textOf(hang))), 'the timed-out tool is still alive', 1000);
    expect((await request('tools/call', call('flood'))).result).toEqual({
      content: [
        { type: 'text', text: 'z'.repeat(1000) },
        { type: 'text', text: '[Output cut: only the first 1000 bytes are shown; 2000 more bytes were left out.]' },
      ],
    });
  });

  it('kills a call the client cancels, and answers nothing for it', async () => {
    const { backend, request, sent, logLines } = await connect(server([sleeper('hang', 'marker-cancel')]));
    void request('tools/call', call('hang'), 'call-1');
    await eventually(() => runningPids('marker-cancel').length === 1, 'the tool did not start');
    const [pid = 0] = runningPids('marker-cancel');
    backend.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'call-1', reason: 'user' } });
    await eventually(() => logLines.some((l) => l.msg === 'inline tool call ended' && l.ended === 'cancel'), 'the call did not end');
    await eventually(() => !isAlive(pid), 'the cancelled tool is still alive', 1000);
    expect(sent.some((m) => m.id === 'call-1')).toBe(false);
  });

  it('kills every running call when the session closes', async () => {
    const { backend, request, logLines } = await connect(server([sleeper('hang', 'marker-close')]));
    void request('tools/call', call('hang'));
    void request('tools/call', call('hang'));
    await eventually(() => runningPids('marker-close').length === 2, 'the tools did not start');
    const pids = runningPids('marker-close');
    await backend.close();
    await eventually(() => pids.every((pid) => !isAlive(pid)), 'a tool outlived its session', 1000);
    expect(logLines.filter((l) => l.ended === 'cancel')).toHaveLength(2);
  });

  it(`refuses a call beyond ${MAX_RUNNING_CALLS} running at once`, async () => {
    const { request } = await connect(server([sleeper('hang', 'marker-many'), nodeTool('quick', 'process.stdout.write("ok")')]));
    for (let i = 0; i < MAX_RUNNING_CALLS; i++) void request('tools/call', call('hang'));
    await eventually(() => runningPids('marker-many').length === MAX_RUNNING_CALLS, 'the calls did not start');
    expect((await request('tools/call', call('quick'))).result).toEqual({
      content: [
        { type: 'text', text: `Too many calls running in this session (at most ${MAX_RUNNING_CALLS}); try again when one has finished.` },
      ],
      isError: true,
    });
  });

  it('ends the session, not the runner, when routing a message throws', async () => {
    const { backend, request } = await connect(server([nodeTool('a', '')]));
    const closed = new Promise<string>((resolve) => (backend.onclose = resolve));
    backend.onmessage = () => {
      throw new Error('routing bug');
    };
    void request('ping');
    expect(await closed).toBe(GUARD_END_REASON);
  });
});

function textOf(message: JsonRpcMessage): string {
  const result = message.result;
  if (typeof result !== 'object' || result === null || !('content' in result) || !Array.isArray(result.content)) return '';
  const [first] = result.content as unknown[];
  return typeof first === 'object' && first !== null && 'text' in first && typeof first.text === 'string' ? first.text : '';
}
