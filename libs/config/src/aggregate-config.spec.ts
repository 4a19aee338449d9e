import { parseConfig, type AggregateServerConfig, type LoadResult } from './index.js';

const stdio = (name: string) => ({ transportType: 'stdio', command: name, serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'T' }] }] });
const env = { T: 'token-0123456789' };

function file(mcpServers: Record<string, unknown>) {
  return { version: 'v1', proxy: { baseURL: 'https://mcp.example.com' }, mcpServers };
}

function aggregateOf(result: LoadResult, name = 'all'): AggregateServerConfig {
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  const server = result.config.servers[name];
  if (server?.transportType !== 'aggregate') throw new Error(`${name} is not an aggregate`);
  return server;
}

describe('aggregate servers in the config', () => {
  it('takes mcp-front keys, with Gatehouse defaults for what is left out', () => {
    const all = aggregateOf(parseConfig(file({ db: stdio('db'), git: stdio('git'), all: { type: 'aggregate', servers: ['git'] } }), env));
    expect(all).toMatchObject({
      transportType: 'aggregate',
      members: ['git'],
      delimiter: '_',
      discovery: { timeoutMs: 10_000, cacheTtlMs: 60_000, maxConnsPerUser: 0 },
      runnerGroup: 'default',
    });
  });

  it('presents every direct server but inline ones and other aggregates when `servers` is left out', () => {
    const config = file({
      db: stdio('db'),
      git: stdio('git'),
      other: { type: 'aggregate', servers: ['db'] },
      all: { type: 'aggregate', delimiter: '-', discovery: { timeout: '2s', cacheTtl: '5m', maxConnsPerUser: 3 } },
    });
    const all = aggregateOf(parseConfig(config, env));
    expect(all.members).toEqual(['db', 'git']);
    expect(all).toMatchObject({ delimiter: '-', discovery: { timeoutMs: 2000, cacheTtlMs: 300_000, maxConnsPerUser: 3 } });
  });

  it.each([
    ['itself', ['all'], 'an aggregate cannot contain itself'],
    ['another aggregate', ['other'], 'an aggregate cannot contain another aggregate'],
    ['an inline server', ['ops'], 'an aggregate cannot contain an inline server'],
    ['a server that does not exist', ['nope'], 'no server named "nope"'],
  ])('refuses an aggregate that names %s, at the member', (_, servers, message) => {
    const ops = { transportType: 'inline', inline: { tools: [{ name: 'uptime', command: 'uptime' }] } };
    const mcpServers = { db: stdio('db'), ops, other: { type: 'aggregate', servers: ['db'] }, all: { type: 'aggregate', servers } };
    const result = parseConfig(file(mcpServers), env);
    expect(result).toEqual({ ok: false, problems: [{ path: 'mcpServers.all.servers[0]', message }] });
  });

  it('warns about a delimiter that makes names some clients refuse, and about aggregate keys on other servers', () => {
    const result = parseConfig(file({ db: { ...stdio('db'), delimiter: '.' }, all: { type: 'aggregate', delimiter: '.' } }), env);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.warnings).toEqual(
      expect.arrayContaining([
        'mcpServers.db.delimiter: only aggregate servers use it; ignored',
        expect.stringContaining('mcpServers.all.delimiter: "." makes tool names some clients refuse'),
      ]),
    );
  });
});
