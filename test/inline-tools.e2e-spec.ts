import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, descendantPids, eventually, isAlive, REPO_ROOT, startTopology, type Topology, type TopologyKind } from '#testing';
import { bearer, connectSse, connectStreamable, type Connected } from './support/mcp-clients.js';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/inline-tool.js');
const TOKEN = 'inline-e2e-token-0123456789abcdef';
const FLOOD_CAP = 64 * 1024;

const text = (required: string[] = ['text']) => ({ type: 'object', properties: { text: { type: 'string' } }, required });
const fixtureTool = (name: string, args: string[], fields: Record<string, unknown> = {}) => ({
  name,
  command: process.execPath,
  args: [FIXTURE, ...args],
  ...fields,
});

/** An inline server whose tools run the fixture, in a runner group of this suite's own. */
function writeConfig(kind: TopologyKind, dir: string): string {
  const tools = [
    fixtureTool('echo_arg', ['raw-arg', '{{text}}'], { description: 'Writes its argument back', inputSchema: text() }),
    fixtureTool('echo_env', ['raw-env', 'TOOL_TEXT'], { env: { TOOL_TEXT: '{{text}}' }, inputSchema: text() }),
    fixtureTool('argv', ['argv', '{{text}}', '{{count}}', 'fixed {{text}} end', '{{missing}}'], {
      inputSchema: { type: 'object', properties: { text: { type: 'string' }, count: { type: 'integer' }, missing: { type: 'string' } } },
    }),
    fixtureTool('env_names', ['env-names'], { env: { TOOL_SET: 'yes' } }),
    fixtureTool('mark', ['mark', join(dir, 'marker')], {
      inputSchema: { type: 'object', properties: { count: { type: 'integer', minimum: 1 } }, required: ['count'] },
    }),
    fixtureTool('fail', ['fail', '3']),
    fixtureTool('tree', ['tree'], { timeout: '1s' }),
    fixtureTool('hang', ['tree', '{{marker}}'], { inputSchema: text(['marker']), timeout: '5m' }),
    fixtureTool('flood', ['flood', '{{bytes}}'], {
      inputSchema: { type: 'object', properties: { bytes: { type: 'integer' } } },
      maxOutputBytes: FLOOD_CAP,
    }),
  ];
  const config = {
    version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
    proxy: { baseURL: 'http://127.0.0.1:8080', addr: '127.0.0.1:8080' },
    mcpServers: {
      ops: {
        transportType: 'inline',
        inline: { description: 'Ops helpers for the e2e suite', tools },
        serviceAuths: [{ type: 'bearer', tokens: [TOKEN] }],
        runnerGroup: `inline${Date.now().toString(36)}${kind === 'all-in-one' ? 'a' : 'd'}`,
      },
    },
  };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

interface ToolOutcome {
  texts: string[];
  isError: boolean;
}

async function call(session: Connected, name: string, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<ToolOutcome> {
  const result = await session.client.callTool({ name, arguments: args }, undefined, signal && { signal });
  const content = Array.isArray(result.content) ? (result.content as unknown[]) : [];
  const texts = content.map((c) => (typeof c === 'object' && c !== null && 'text' in c && typeof c.text === 'string' ? c.text : ''));
  return { texts, isError: result.isError === true };
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** Strings a shell would act on, and the sizes and characters that break naive quoting. */
const HOSTILE = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  'line one\nline two\r\n\ttabbed',
  `"double" 'single' \\"escaped\\" \\`,
  '--help',
  '-e',
  '{{text}} stays {{text}}',
  '* ? [a-z] ~ | & > < ! #',
  'ünïcødé ☃ 🚀',
  '',
  ' leading and trailing spaces ',
  ('; rm -rf / $(id) `id` "\'\n' + 'x'.repeat(90)).repeat(1024).slice(0, 100 * 1024),
];

describe.each<TopologyKind>(['all-in-one', 'distributed'])('inline servers (%s)', (kind) => {
  let topology: Topology;
  let dir: string;
  let session: Connected;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-inline-e2e-'));
    topology = await startTopology(kind, writeConfig(kind, dir), {
      runnerCount: 1,
      env: { GATEHOUSE_SECRET_CANARY: 'canary-must-not-leak' },
    });
    session = await connectStreamable(`${topology.url}/ops/mcp`, bearer(TOKEN));
  }, 60000);

  afterAll(async () => {
    await session?.client.close();
    await topology?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('initializes with the description as instructions and lists the tools with their schemas', async () => {
    expect(session.client.getInstructions()).toBe('Ops helpers for the e2e suite');
    expect(session.client.getServerCapabilities()?.tools).toEqual({});
    const { tools } = await session.client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['echo_arg', 'echo_env', 'argv', 'env_names', 'mark', 'fail', 'tree', 'hang', 'flood']);
    expect(tools[0]).toEqual({ name: 'echo_arg', description: 'Writes its argument back', inputSchema: text() });
    expect(tools[3]?.inputSchema).toEqual({ type: 'object' });
  });

  it('serves the legacy SSE transport too', async () => {
    const sse = await connectSse(`${topology.url}/ops/sse`, bearer(TOKEN));
    expect(await call(sse, 'echo_arg', { text: 'over sse' })).toEqual({ texts: ['over sse'], isError: false });
    await sse.client.close();
  });

  it.each(HOSTILE.map((value) => [value.length > 60 ? `${value.length} characters` : JSON.stringify(value), value]))(
    'passes %s to the program unchanged, in argv and in env',
    async (_label, value) => {
      expect(await call(session, 'echo_arg', { text: value })).toEqual({ texts: [value], isError: false });
      expect(await call(session, 'echo_env', { text: value })).toEqual({ texts: [value], isError: false });
    },
  );

  it('never splits or joins argv elements; non-strings arrive as JSON, an absent argument as ""', async () => {
    const value = 'a b\nc "d" $(e)';
    const outcome = await call(session, 'argv', { text: value, count: 42 });
    expect(JSON.parse(outcome.texts[0] ?? '')).toEqual([value, '42', `fixed ${value} end`, '']);
  });

  it('gives a tool only the allowlisted environment and its own env', async () => {
    const names = JSON.parse((await call(session, 'env_names')).texts[0] ?? '') as string[];
    expect(names).toContain('TOOL_SET');
    expect(names).toContain('PATH');
    expect(names).not.toContain('GATEHOUSE_SECRET_CANARY');
    expect(names).not.toContain('NATS_URL');
  });

  it('refuses arguments that break the schema before anything runs', async () => {
    const marker = join(dir, 'marker');
    expect(await call(session, 'mark', { count: 'two' })).toEqual({
      texts: ['Invalid arguments for tool mark: arguments/count must be integer'],
      isError: true,
    });
    expect(await call(session, 'mark', {})).toEqual({
      texts: ["Invalid arguments for tool mark: arguments must have required property 'count'"],
      isError: true,
    });
    expect(existsSync(marker)).toBe(false);
    expect(await call(session, 'mark', { count: 1 })).toEqual({ texts: ['marked'], isError: false });
    expect(readFileSync(marker, 'utf8')).toBe('ran\n');
  });

  it('answers an unknown tool with -32602', async () => {
    await expect(session.client.callTool({ name: 'nope', arguments: {} })).rejects.toThrow(/-32602.*Unknown tool: "nope"/);
  });

  it('reports a non-zero exit with its code and the tail of stderr', async () => {
    const { texts, isError } = await call(session, 'fail');
    expect(isError).toBe(true);
    expect(texts[0]).toBe('partial');
    expect(texts[1]).toMatch(/^\[The command exited with code 3\.\]\nstderr \(the end of it\):\n/);
    expect(texts[1]).toMatch(/stderr line 200 of the failing tool$/);
    expect(texts[1]).not.toContain('stderr line 1 of');
  });

  it('kills the tool and its child at the timeout, and says so', async () => {
    const began = Date.now();
    const { texts, isError } = await call(session, 'tree');
    const elapsed = Date.now() - began;
    expect(isError).toBe(true);
    expect(texts[1]).toBe('[Timed out after 1 s: the command and every process it started were killed.] It wrote nothing to stderr.');
    const { pid, child } = JSON.parse(texts[0] ?? '') as { pid: number; child: number };
    // Both ignore SIGTERM: the group's SIGKILL 2 s later (DEFAULT_KILL_TIMINGS) is what ends them.
    await eventually(() => !isAlive(pid) && !isAlive(child), `the tool ${pid} or its child ${child} outlived the timeout`, 2000);
    expect(elapsed).toBeLessThan(6000);
  });

  it('cuts output over maxOutputBytes with a note', async () => {
    const { texts, isError } = await call(session, 'flood', { bytes: 200_000 });
    expect(isError).toBe(false);
    expect(texts[0]).toBe('x'.repeat(FLOOD_CAP));
    expect(texts[1]).toBe(`[Output cut: only the first ${FLOOD_CAP} bytes are shown; ${200_000 - FLOOD_CAP} more bytes were left out.]`);
  });

  it('kills a running call the client cancels, with its child', async () => {
    const [runner] = topology.runners;
    if (!runner) throw new Error('no runner');
    const marker = `cancel-me-${kind}`;
    const cancel = new AbortController();
    const outcome = call(session, 'hang', { marker }, cancel.signal).catch((err: unknown) => err);
    let tree: number[] = [];
    await eventually(() => {
      const [leader] = descendantPids(runner.pid).filter((pid) => cmdline(pid).includes(marker));
      tree = leader === undefined ? [] : [leader, ...descendantPids(leader)];
      return tree.length === 2;
    }, 'the tool and its child did not start');
    cancel.abort('the user changed their mind');
    expect(String(await outcome)).toMatch(/the user changed their mind/);
    await eventually(() => tree.every((pid) => !isAlive(pid)), `the cancelled tool ${tree.join(', ')} outlived the cancellation`, 4000);
    await runner.waitFor(/"tool":"hang".*"ended":"cancel"/);
    // The session carries on.
    expect(await call(session, 'echo_arg', { text: 'still here' })).toEqual({ texts: ['still here'], isError: false });
  });
});

describe('gatehouse validate', () => {
  it('reports an inputSchema ajv cannot compile with its JSON path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-inline-validate-'));
    const path = join(dir, 'config.json');
    const tool = { name: 'count', command: 'wc', inputSchema: { type: 'object', properties: { n: { type: 'integr' } } } };
    const config = {
      version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
      proxy: { baseURL: 'http://127.0.0.1:8080' },
      mcpServers: { ops: { transportType: 'inline', inline: { tools: [tool] } } },
    };
    writeFileSync(path, JSON.stringify(config));
    const run = spawnSync(process.execPath, [CLI, 'validate', '--config', path], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'mcpServers.ops.inline.tools[0].inputSchema: not a valid JSON Schema (2020-12): inputSchema/properties/n/type must be equal to one of the allowed values',
    );
  });
});
