import { rmSync } from 'node:fs';
import { eventually, startTopology, type Topology, type TopologyKind } from '#testing';
import { callText, connectRemoteClient, disconnect, type RemoteClient } from './fixtures/remote-clients.js';
import { REMOTE_TOKENS, suiteGroup, writeRemoteConfig } from './fixtures/remote-config.js';
import { startEverything, startFixtureUpstream, upstreamStats, type Upstream } from './fixtures/remote-upstreams.js';

const bearer = (token: string) => `Bearer ${token}`;
const UPSTREAM_KEY = 'upstream-key-from-the-config-0123';

/**
 * Progress arrives in order before the response; the SDK client may drop the last one when it
 * lands in the same read as the response, so only the earlier steps are certain.
 */
function expectProgress(progress: number[], steps: number): void {
  expect(progress).toEqual(Array.from({ length: progress.length }, (_, i) => i + 1));
  expect(progress.length).toBeGreaterThanOrEqual(steps - 1);
}

/** Tools, a long call with progress, sampling, elicitation and roots answered by the client: server-everything through the gateway. */
async function exerciseEverything(session: RemoteClient): Promise<void> {
  const tools = await session.client.listTools();
  expect(tools.tools.map((t) => t.name)).toEqual(
    expect.arrayContaining(['echo', 'trigger-long-running-operation', 'trigger-sampling-request', 'trigger-elicitation-request']),
  );
  expect(await callText(session, 'echo', { message: 'through the relay' })).toBe('Echo: through the relay');

  const progress: number[] = [];
  const long = await session.client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } }, undefined, {
    onprogress: (p) => progress.push(p.progress),
  });
  expect(JSON.stringify(long.content)).toContain('Long running operation completed');
  expectProgress(progress, 4);

  expect(await callText(session, 'trigger-sampling-request', { prompt: 'remote-ping', maxTokens: 5 })).toContain(
    'sampled by the remote e2e client',
  );
  expect(session.sampled).toEqual([expect.stringContaining('remote-ping')]);

  expect(await callText(session, 'trigger-elicitation-request')).toContain('Ada Lovelace');
  expect(session.elicited).toEqual(['Please provide inputs for the following fields:']);

  // The server asks for roots outside any call: over its GET stream (streamable HTTP) or its one stream (SSE).
  expect(await callText(session, 'get-roots-list')).toContain('URI: file:///e2e/root');
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('remote servers (%s)', (kind) => {
  let everythingHttp: Upstream;
  let everythingSse: Upstream;
  let reporter: Upstream;
  let topology: Topology;
  let configDir: string;
  const url = (server: string, path = 'mcp') => `${topology.url}/${server}/${path}`;

  beforeAll(async () => {
    [everythingHttp, everythingSse, reporter] = await Promise.all([
      startEverything('streamableHttp'),
      startEverything('sse'),
      startFixtureUpstream(['--require-header', `x-upstream-key:${UPSTREAM_KEY}`]),
    ]);
    const headers = { 'X-Upstream-Key': { $env: 'E2E_UPSTREAM_KEY' } };
    const config = writeRemoteConfig(
      {
        'everything-http': { transportType: 'streamable-http', url: `${everythingHttp.origin}/mcp` },
        'everything-sse': { transportType: 'sse', url: `${everythingSse.origin}/sse` },
        reporter: { transportType: 'streamable-http', url: `${reporter.origin}/mcp`, headers },
        'reporter-sse': { transportType: 'sse', url: `${reporter.origin}/sse`, headers },
      },
      { group: suiteGroup('remote', kind) },
    );
    configDir = config.dir;
    topology = await startTopology(kind, config.path, { env: { E2E_UPSTREAM_KEY: UPSTREAM_KEY }, runnerCount: 2 });
  }, 60000);

  afterAll(async () => {
    const stopped = await topology?.stop();
    await Promise.all([everythingHttp, everythingSse, reporter].map((u) => u?.stop()));
    rmSync(configDir, { recursive: true, force: true });
    expect(stopped).toEqual({ forced: 0 });
  });

  it('relays a streamable-HTTP upstream both ways (tools, progress, sampling, elicitation, roots) and DELETEs its session at the end', async () => {
    const session = await connectRemoteClient(url('everything-http'), bearer(REMOTE_TOKENS.alice));
    await exerciseEverything(session);
    const upstreamSession = /Session initialized with ID: (\S+)/.exec(everythingHttp.output())?.[1];
    expect(upstreamSession).toBeDefined();
    await disconnect(session);
    await eventually(
      () => everythingHttp.output().includes(`Received session termination request for session ${upstreamSession}`),
      'the upstream session was not deleted when the client session ended',
    );
  });

  it('relays an SSE upstream both ways and closes its stream at the end', async () => {
    const session = await connectRemoteClient(url('everything-sse'), bearer(REMOTE_TOKENS.alice));
    await exerciseEverything(session);
    const upstreamSession = /Client Connected: +(\S+)/.exec(everythingSse.output())?.[1];
    expect(upstreamSession).toBeDefined();
    await disconnect(session);
    await eventually(
      () => everythingSse.output().includes(`Client Disconnected:  ${upstreamSession}`),
      'the upstream SSE session was not closed when the client session ended',
    );
  });

  it('serves a legacy SSE client from a streamable-HTTP upstream', async () => {
    const session = await connectRemoteClient(url('everything-http', 'sse'), bearer(REMOTE_TOKENS.bob));
    expect(await callText(session, 'echo', { message: 'old client' })).toBe('Echo: old client');
    expect(await callText(session, 'trigger-sampling-request', { prompt: 'legacy', maxTokens: 5 })).toContain(
      'sampled by the remote e2e client',
    );
    await disconnect(session);
  });

  it.each(['reporter', 'reporter-sse'])('sends the configured headers upstream (%s), never the client credential', async (server) => {
    const session = await connectRemoteClient(url(server), bearer(REMOTE_TOKENS.alice));
    const received = JSON.parse(await callText(session, 'report-headers')) as Record<string, string>;
    expect(received['x-upstream-key']).toBe(UPSTREAM_KEY);
    expect(received.authorization).toBeUndefined();
    expect(JSON.stringify(received)).not.toContain(REMOTE_TOKENS.alice);
    if (server === 'reporter') expect(received['mcp-protocol-version']).toBe('2025-11-25');
    await disconnect(session);
  });

  it('opens one upstream session per client session, each ended with its client', async () => {
    const before = await upstreamStats(reporter);
    const alice = await connectRemoteClient(url('reporter'), bearer(REMOTE_TOKENS.alice));
    const bob = await connectRemoteClient(url('reporter'), bearer(REMOTE_TOKENS.bob));
    const aliceSession = JSON.parse(await callText(alice, 'report-headers')) as Record<string, string>;
    const bobSession = JSON.parse(await callText(bob, 'report-headers')) as Record<string, string>;
    expect(aliceSession['mcp-session-id']).not.toBe(bobSession['mcp-session-id']);
    expect((await upstreamStats(reporter)).initialized).toBe(before.initialized + 2);
    await Promise.all([disconnect(alice), disconnect(bob)]);
    expect(await upstreamStats(reporter)).toMatchObject({ deleted: before.deleted + 2, sessions: 0 });
  });
});
