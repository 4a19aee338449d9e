import { fileURLToPath } from 'node:url';
import { formatProblems, loadConfig, parseConfig, type ConfigProblem, type LoadResult } from './index.js';

const document = (servers: Record<string, unknown>) => ({
  version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
  proxy: { baseURL: 'https://mcp.example.com' },
  mcpServers: servers,
});

/** One server `s`, with bearer auth so that no other warning joins the ones under test. */
const withServer = (server: Record<string, unknown>) =>
  document({ s: { serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'T' }] }], ...server } });

function loaded(result: LoadResult) {
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result;
}

function problemsOf(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.config.servers)}`);
  return result.problems;
}

const env = { T: 'token-for-gatehouse', LINEAR_KEY: 'lin_api_secret', MCP_URL: 'https://mcp.internal.example/mcp' };

describe('remote servers in the config', () => {
  it('builds a streamable-HTTP server with its headers, $env values resolved', () => {
    const result = loaded(
      parseConfig(
        withServer({
          transportType: 'streamable-http',
          url: { $env: 'MCP_URL' },
          headers: { Authorization: { $env: 'LINEAR_KEY' }, 'X-MCP-Toolsets': 'repos,issues' },
          timeout: '5s',
          runnerGroup: 'private',
        }),
        env,
      ),
    );
    expect(result.warnings).toEqual([]);
    expect(result.config.servers.s).toMatchObject({
      transportType: 'streamable-http',
      url: 'https://mcp.internal.example/mcp',
      headers: { Authorization: 'lin_api_secret', 'X-MCP-Toolsets': 'repos,issues' },
      timeoutMs: 5000,
      runnerGroup: 'private',
    });
  });

  it('builds an SSE server with the default timeout and no headers', () => {
    const result = loaded(parseConfig(withServer({ transportType: 'sse', url: 'https://mcp.linear.app/sse' }), env));
    expect(result.config.servers.s).toMatchObject({
      transportType: 'sse',
      url: 'https://mcp.linear.app/sse',
      headers: {},
      timeoutMs: 30_000,
    });
  });

  it('loads examples/remote.json', () => {
    const file = fileURLToPath(new URL('../../../examples/remote.json', import.meta.url));
    const result = loaded(loadConfig(file, { GATEHOUSE_TOKEN: 't', LINEAR_AUTH: 'Bearer lin_api_x', INTERNAL_MCP_TOKEN: 'i' }));
    expect(Object.values(result.config.servers).map((s) => s.transportType)).toEqual(['streamable-http', 'sse', 'streamable-http']);
    expect(result.warnings).toEqual([]);
  });

  it.each([
    ['another scheme', 'ftp://files.example/mcp'],
    ['credentials in the URL', 'https://user:secret@mcp.example/mcp'],
    ['no URL at all', 'mcp.example/mcp'],
  ])('refuses %s', (_what, url) => {
    expect(problemsOf(parseConfig(withServer({ transportType: 'streamable-http', url }), env))).toEqual([
      { path: 'mcpServers.s.url', message: 'expected an http(s) URL without credentials (send those in headers)' },
    ]);
  });

  it('requires a url', () => {
    expect(problemsOf(parseConfig(withServer({ transportType: 'sse' }), env))).toEqual([
      { path: 'mcpServers.s.url', message: 'required when transportType is "sse"' },
    ]);
  });

  it('reports unset $env values in url and headers at their paths', () => {
    const server = { transportType: 'sse', url: { $env: 'NO_URL' }, headers: { Authorization: { $env: 'NO_KEY' } } };
    expect(problemsOf(parseConfig(withServer(server), env))).toEqual([
      { path: 'mcpServers.s.url', message: 'environment variable NO_URL is not set' },
      { path: 'mcpServers.s.headers.Authorization', message: 'environment variable NO_KEY is not set' },
    ]);
  });

  it('refuses header names that are not tokens, headers the relay sets, and values Node.js cannot send, without echoing them', () => {
    const headers = {
      'Bad Name': 'x',
      'Mcp-Session-Id': 'fixed',
      Accept: 'text/html',
      Authorization: { $env: 'INJECTED' },
      'X-Name': 'Zoë',
      'X-Mark': '✓',
    };
    const result = parseConfig(withServer({ transportType: 'streamable-http', url: 'https://mcp.example/mcp', headers }), {
      ...env,
      INJECTED: 'Bearer secret-value\r\nX-Evil: 1',
    });
    const problems = problemsOf(result);
    expect(problems).toEqual([
      { path: 'mcpServers.s.headers["Bad Name"]', message: 'expected an HTTP header name' },
      { path: 'mcpServers.s.headers.Mcp-Session-Id', message: 'set by Gatehouse itself; remove it' },
      { path: 'mcpServers.s.headers.Accept', message: 'set by Gatehouse itself; remove it' },
      { path: 'mcpServers.s.headers.Authorization', message: 'expected printable characters without line breaks (Latin-1 at most)' },
      { path: 'mcpServers.s.headers.X-Mark', message: 'expected printable characters without line breaks (Latin-1 at most)' },
    ]);
    expect(formatProblems(problems)).not.toContain('secret-value');
  });

  it('warns when headers would cross the network over plain http, not on loopback or https', () => {
    const server = (url: string) => withServer({ transportType: 'streamable-http', url, headers: { 'X-Key': 'k' } });
    expect(loaded(parseConfig(server('http://mcp.internal:8000/mcp'), env)).warnings).toEqual([
      'mcpServers.s.url: plain http to mcp.internal:8000, so credentials cross the network unencrypted; prefer https',
    ]);
    for (const url of ['http://127.0.0.1:8000/mcp', 'http://localhost/mcp', 'https://mcp.internal/mcp']) {
      expect(loaded(parseConfig(server(url), env)).warnings).toEqual([]);
    }
  });

  it('accepts url and headers on a stdio server with a warning that they are ignored (mcp-front ignores them)', () => {
    const result = loaded(
      parseConfig(withServer({ transportType: 'stdio', command: 'node', url: 'https://x.test', headers: { 'X-Key': 'k' } }), env),
    );
    expect(result.warnings).toEqual([
      'mcpServers.s.url: used only by "sse" and "streamable-http" servers; ignored',
      'mcpServers.s.headers: used only by "sse" and "streamable-http" servers; ignored',
    ]);
  });

  it('refuses a $userToken in headers or url of a server that does not require a user token', () => {
    const server = {
      transportType: 'sse',
      url: { $userToken: 'https://x.test/sse?key={{token}}' },
      headers: { Authorization: { $userToken: 'Bearer {{token}}' } },
    };
    const needs = 'a {"$userToken": …} value needs "requiresUserToken": true on this server';
    expect(problemsOf(parseConfig(withServer(server), env))).toEqual([
      { path: 'mcpServers.s.url', message: needs },
      { path: 'mcpServers.s.headers.Authorization', message: needs },
    ]);
  });
});
