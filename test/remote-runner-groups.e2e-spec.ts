import { rmSync } from 'node:fs';
import { startTopology, type Topology, type TopologyKind } from '#testing';
import { callText, connectRemoteClient, disconnect } from './fixtures/remote-clients.js';
import { REMOTE_TOKENS, suiteGroup, writeRemoteConfig } from './fixtures/remote-config.js';
import { startFixtureUpstream, type Upstream } from './fixtures/remote-upstreams.js';

const AUTHORIZATION = `Bearer ${REMOTE_TOKENS.alice}`;

/** The error a failed connect carries, or 'connected'. */
async function tryConnect(url: string): Promise<string> {
  return connectRemoteClient(url, AUTHORIZATION).then(
    async (session) => {
      await disconnect(session);
      return 'connected';
    },
    (err: unknown) => (err instanceof Error ? err.message : String(err)),
  );
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('a remote server in a private runner group (%s)', (kind) => {
  let upstream: Upstream;
  let topology: Topology;
  let configDir: string;
  let publicGroup: string;
  let privateGroup: string;

  beforeAll(async () => {
    upstream = await startFixtureUpstream();
    publicGroup = suiteGroup('pub', kind);
    privateGroup = suiteGroup('private', kind);
    const config = writeRemoteConfig(
      {
        inside: { transportType: 'streamable-http', url: `${upstream.origin}/mcp`, runnerGroup: privateGroup },
        outside: { transportType: 'sse', url: `${upstream.origin}/sse` },
      },
      { group: publicGroup },
    );
    configDir = config.dir;
    // One runner for each group; `serve` is its own runner for every group.
    topology = await startTopology(kind, config.path, { runnerGroups: [[publicGroup], [privateGroup]] });
  }, 60000);

  afterAll(async () => {
    const stopped = await topology?.stop();
    await upstream?.stop();
    rmSync(configDir, { recursive: true, force: true });
    expect(stopped).toEqual({ forced: 0 });
  });

  it('reaches the upstream through a runner of its group only', async () => {
    const session = await connectRemoteClient(`${topology.url}/inside/mcp`, AUTHORIZATION);
    expect(await callText(session, 'echo', { message: 'from inside' })).toBe('echo: from inside');
    await disconnect(session);
    const opened = /"server":"inside"[^\n]*"msg":"upstream session opened"|"msg":"upstream session opened"[^\n]*"server":"inside"/;
    const [publicRunner, privateRunner] = topology.runners;
    if (kind === 'distributed') {
      expect(privateRunner?.output()).toMatch(opened);
      expect(publicRunner?.output()).not.toMatch(opened);
    } else {
      expect(topology.runners[0]?.output()).toMatch(opened);
    }
  });

  if (kind === 'distributed') {
    it('cannot be reached once no runner of its group is left, while the other group carries on', async () => {
      await topology.runners[1]?.stop();
      expect(await tryConnect(`${topology.url}/inside/mcp`)).toContain(`no runner is serving group ${privateGroup}`);
      expect(await tryConnect(`${topology.url}/outside/mcp`)).toBe('connected');
    });
  }
});
