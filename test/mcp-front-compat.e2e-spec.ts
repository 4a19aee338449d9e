import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, startTopology, type Topology, type TopologyKind } from '#testing';
import { EVERYTHING } from './support/gateway-config.js';
import { bearer, connectSse, connectStreamable, textOf } from './support/mcp-clients.js';

/** mcp-front's README "Try it locally (5 minutes)" file, verbatim: no baseURL, `npx -y` a filesystem server. */
const TRY_IT_LOCALLY = fileURLToPath(new URL('./fixtures/mcp-front-try-it-locally.json', import.meta.url));
const run = promisify(execFile);

/**
 * An `npx` first on PATH that records its arguments and runs server-everything instead of downloading
 * the filesystem server, so the file is served as written without the network.
 */
function npxStandIn(dir: string): string {
  const script = `#!${process.execPath}
require('node:fs').writeFileSync(${JSON.stringify(join(dir, 'argv.json'))}, JSON.stringify(process.argv.slice(2)));
process.argv = [process.argv[0], ${JSON.stringify(EVERYTHING)}, 'stdio'];
import(${JSON.stringify(EVERYTHING)});
`;
  writeFileSync(join(dir, 'npx'), script);
  chmodSync(join(dir, 'npx'), 0o755);
  return dir;
}

describe('gatehouse CLI with mcp-front files', () => {
  it('prints its version', async () => {
    const pkg: unknown = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    const { stdout } = await run(process.execPath, [CLI, '--version']);
    expect(pkg).toMatchObject({ version: stdout.trim() });
    expect(stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });

  it('validates the "try it locally" file, saying which baseURL it derived', async () => {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'validate', '--config', TRY_IT_LOCALLY]);
    expect(stdout).toBe(`${TRY_IT_LOCALLY}: valid (1 server)\n`);
    expect(stderr).toContain('warning: proxy.baseURL: not set, so Gatehouse uses http://localhost:8080 (from proxy.addr)');
  });
});

describe.each<TopologyKind>(['all-in-one', 'distributed'])('mcp-front\'s "try it locally" file served as is (%s)', (kind) => {
  let topology: Topology;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-try-it-'));
    const path = `${npxStandIn(dir)}${delimiter}${process.env.PATH ?? ''}`;
    topology = await startTopology(kind, TRY_IT_LOCALLY, { env: { PATH: path }, runnerCount: 1 });
  }, 60_000);

  afterAll(async () => {
    await topology?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the derived baseURL in the URLs it gives clients', () => {
    const edge = topology.edges[0]?.output() ?? '';
    expect(edge).toContain('warning: proxy.baseURL: not set, so Gatehouse uses http://localhost:8080');
    expect(edge).toContain('filesystem: http://localhost:8080/filesystem/mcp   (legacy SSE: http://localhost:8080/filesystem/sse)');
  });

  it('admits its bearer token over legacy SSE and streamable HTTP, running the command with its arguments', async () => {
    const sse = await connectSse(`${topology.url}/filesystem/sse`, bearer('dev-token-123'));
    expect(textOf(await sse.client.callTool({ name: 'echo', arguments: { message: 'as in the README' } }))).toContain('as in the README');
    await sse.client.close();
    expect(JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8'))).toEqual(['-y', '@modelcontextprotocol/server-filesystem', '/tmp']);

    const streamable = await connectStreamable(`${topology.url}/filesystem/mcp`, bearer('dev-token-123'));
    expect((await streamable.client.listTools()).tools.map((t) => t.name)).toContain('echo');
    await streamable.client.close();
  });

  it('refuses a caller without the token', async () => {
    const res = await fetch(`${topology.url}/filesystem/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
  });
});
