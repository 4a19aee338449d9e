import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childPids, eventually, REPO_ROOT, startTopology, type GatewayProcess, type Topology, type TopologyKind } from '#testing';
import { EVERYTHING, GATEWAY_ENV, TOKENS } from './support/gateway-config.js';
import { startEverything, type Upstream } from './fixtures/remote-upstreams.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';

const LONG_MEMBER = 'a-member-whose-name-is-long-enough-to-push-tool-names-past-64';
const ACCEPTED = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * An aggregate of three server-everything members — over stdio, remote over streamable HTTP, and
 * one with a name long enough to shorten — and one that cannot start.
 */
function writeConfig(runnerGroup: string, remote: Upstream): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-aggregate-'));
  const everything = (extra: Record<string, unknown> = {}) => ({
    transportType: 'stdio',
    command: process.execPath,
    args: [EVERYTHING, 'stdio'],
    serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'E2E_TOKEN_ALICE' }, TOKENS.bob] }],
    runnerGroup,
    ...extra,
  });
  const config = {
    version: 'v1',
    proxy: { baseURL: 'http://127.0.0.1:8080', sessions: { maxPerUser: 8 } },
    mcpServers: {
      everything: everything(),
      filtered: {
        transportType: 'streamable-http',
        url: `${remote.origin}/mcp`,
        options: { toolFilter: { mode: 'allow', list: ['get-sum'] } },
        serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'E2E_TOKEN_ALICE' }, TOKENS.bob] }],
        runnerGroup,
      },
      [LONG_MEMBER]: everything({ options: { toolFilter: { mode: 'allow', list: ['trigger-long-running-operation'] } } }),
      broken: everything({ command: '/nonexistent/mcp-server', args: [] }),
      all: {
        type: 'aggregate',
        servers: ['everything', 'filtered', LONG_MEMBER, 'broken'],
        serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'E2E_TOKEN_ALICE' }, TOKENS.bob] }],
        discovery: { timeout: '20s' },
        runnerGroup,
      },
    },
  };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { path, dir };
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('aggregate servers (%s)', (kind) => {
  let topology: Topology;
  let configDir: string;
  let url: string;
  let remote: Upstream;

  beforeAll(async () => {
    remote = await startEverything('streamableHttp');
    const config = writeConfig(`agg${Date.now().toString(36)}${kind[0]}`, remote);
    configDir = config.dir;
    const probe = `--import=${pathToFileURL(join(REPO_ROOT, 'test/fixtures/async-hooks-probe.mjs')).href}`;
    topology = await startTopology(kind, config.path, { env: { ...GATEWAY_ENV, NODE_OPTIONS: probe }, runnerCount: 2 });
    url = `${topology.url}/all/mcp`;
  }, 60000);

  afterAll(async () => {
    await topology?.stop();
    await remote?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  const backends = () => topology.runners.flatMap((r) => childPids(r.pid));

  it("lists the members' tools under names clients accept, leaving out a member that cannot start", async () => {
    const { client, transport } = await connectStreamable(url, bearer(TOKENS.alice));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['everything_echo', 'everything_get-env', 'filtered_get-sum']));
    expect(names.filter((n) => n.startsWith('filtered_'))).toEqual(['filtered_get-sum']);
    const long = names.filter((n) => n.startsWith(LONG_MEMBER.slice(0, 20)));
    expect(long).toHaveLength(1);
    expect(names.every((n) => ACCEPTED.test(n))).toBe(true);
    expect(names.some((n) => n.startsWith('broken'))).toBe(false);
    const log = topology.runners.map((r) => r.output()).join('');
    expect(log).toMatch(/aggregate member left out of the tool list/);
    expect(log).not.toMatch(/"level":(50|60)/);
    await transport.terminateSession();
    await client.close();
  });

  it('routes calls to the member that has the tool: results, progress and sampling pass through', async () => {
    const { client, transport, sampled } = await connectStreamable(url, bearer(TOKENS.alice));
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(textOf(await client.callTool({ name: 'everything_echo', arguments: { message: 'through the aggregate' } }))).toContain(
      'through the aggregate',
    );
    expect(textOf(await client.callTool({ name: 'filtered_get-sum', arguments: { a: 2, b: 3 } }))).toContain('5');
    const shortened = names.find((n) => n.startsWith(LONG_MEMBER.slice(0, 20))) ?? '';
    const progress: number[] = [];
    const long = await client.callTool({ name: shortened, arguments: { duration: 0.6, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(textOf(long)).toContain('Long running operation completed');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const sampling = await client.callTool({
      name: 'everything_trigger-sampling-request',
      arguments: { prompt: 'agg-ping', maxTokens: 5 },
    });
    expect(sampled).toEqual([expect.stringContaining('agg-ping')]);
    expect(textOf(sampling)).toContain('sampled by the e2e client');
    const unknown = await client.callTool({ name: 'everything_nope', arguments: {} }).then(
      () => 'answered',
      (err: unknown) => String(err),
    );
    expect(unknown).toContain('Unknown tool');
    await transport.terminateSession();
    await client.close();
  });

  it("ends its members' sessions, and their processes, when the aggregate session ends", async () => {
    const before = backends().length;
    const { client, transport } = await connectStreamable(url, bearer(TOKENS.alice));
    await client.listTools();
    // The two stdio members run as processes; the remote one is a connection.
    expect(backends().length).toBeGreaterThanOrEqual(before + 2);
    await transport.terminateSession();
    await client.close();
    await eventually(() => backends().length === before, `member backends left: ${backends().length} (were ${before})`);
  });

  it("opens members under each caller's identity: two callers never share a member session", async () => {
    const before = backends().length;
    const alice = await connectStreamable(url, bearer(TOKENS.alice));
    await alice.client.listTools();
    const afterAlice = backends().length;
    const bob = await connectStreamable(url, bearer(TOKENS.bob));
    await bob.client.listTools();
    // Each caller's aggregate session opened its own stdio members (the broken one never starts).
    expect(afterAlice - before).toBe(2);
    expect(backends().length - afterAlice).toBe(2);
    for (const { client, transport } of [alice, bob]) {
      await transport.terminateSession();
      await client.close();
    }
    await eventually(() => backends().length === before, 'member backends left after both sessions ended');
  });

  it('leaves promise hooks off in every gateway process, after calls through stdio and remote members (ADR 0011)', async () => {
    const { client, transport } = await connectStreamable(url, bearer(TOKENS.alice));
    await client.callTool({ name: 'everything_echo', arguments: { message: 'probe' } });
    await client.callTool({ name: 'filtered_get-sum', arguments: { a: 1, b: 1 } });
    await transport.terminateSession();
    await client.close();
    const probes = (p: GatewayProcess): string[] => p.output().match(/async hooks probe: \w+/g) ?? [];
    const seen = topology.all.map((p) => probes(p).length);
    await eventually(() => topology.all.every((p, i) => probes(p).length > seen[i]), 'a gateway process did not run the probe');
    for (const p of topology.all)
      expect({ command: p.args[0], on: probes(p).includes('async hooks probe: on') }).toEqual({ command: p.args[0], on: false });
  });
});
