import { fileURLToPath } from 'node:url';
import {
  formatProblems,
  formatUserToken,
  loadConfig,
  parseConfig,
  withUserToken,
  type ConfigProblem,
  type LoadResult,
  type ServerConfig,
} from './index.js';

const KEY = 'k'.repeat(32);
const env = { IDP_SECRET: 'idp-secret', ENCRYPTION_KEY: KEY, NOTION_ID: 'notion-client', NOTION_SECRET: 'notion-secret', SVC: 'svc-own' };
const AUTH = {
  kind: 'oauth',
  idp: { provider: 'google', clientId: 'client', clientSecret: { $env: 'IDP_SECRET' } },
  allowedDomains: ['example.com'],
  encryptionKey: { $env: 'ENCRYPTION_KEY' },
};

function file(mcpServers: Record<string, unknown>, withAuth = true) {
  return { version: 'v1', proxy: { baseURL: 'https://mcp.example.com', ...(withAuth && { auth: AUTH }) }, mcpServers };
}

const manual = { type: 'manual', displayName: 'Linear API key', instructions: 'Create one in Linear settings' };
const stdioWithToken = (extra: Record<string, unknown> = {}) => ({
  transportType: 'stdio',
  command: 'node',
  args: ['server.js', { $userToken: '--key={{token}}' }],
  env: { LINEAR_KEY: { $userToken: '{{token}}' }, PLAIN: 'x' },
  requiresUserToken: true,
  userAuthentication: manual,
  ...extra,
});

function loaded(result: LoadResult) {
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result;
}
function serverOf(result: LoadResult, name: string): ServerConfig {
  const server = loaded(result).config.servers[name];
  if (!server) throw new Error(`no server ${name}`);
  return server;
}
function problemsOf(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error(`expected problems, got ${JSON.stringify(result.config.servers)}`);
  return result.problems;
}

describe('per-user credentials in the config', () => {
  it('reads a manual userAuthentication with its defaults and records where the token goes', () => {
    const server = serverOf(parseConfig(file({ linear: stdioWithToken() }), env), 'linear');
    expect(server.userAuthentication).toEqual({
      type: 'manual',
      displayName: 'Linear API key',
      instructions: 'Create one in Linear settings',
      tokenFormat: '{{token}}',
    });
    expect(server.userToken?.slots).toEqual([
      { path: ['args', 1], template: '--key={{token}}' },
      { path: ['env', 'LINEAR_KEY'], template: '{{token}}' },
    ]);
    // Placeholders only: nothing of a template reaches a backend unfilled.
    expect(server).toMatchObject({ args: ['server.js', ''], env: { LINEAR_KEY: '', PLAIN: 'x' } });
  });

  it('fills every slot with the formatted token, literally, leaving the resolved config untouched', () => {
    const server = serverOf(parseConfig(file({ linear: stdioWithToken() }), env), 'linear');
    const token = "lin_$&_$'_{{token}}";
    const filled = withUserToken(server, token);
    expect(filled).toMatchObject({ args: ['server.js', `--key=${token}`], env: { LINEAR_KEY: token, PLAIN: 'x' } });
    expect(server).toMatchObject({ args: ['server.js', ''], env: { LINEAR_KEY: '' } });
  });

  it('reads an oauth userAuthentication on a remote server, headers and url templated', () => {
    const notion = {
      transportType: 'streamable-http',
      url: { $userToken: 'https://mcp.notion.test/mcp?key={{token}}' },
      headers: { Authorization: { $userToken: 'Bearer {{token}}' }, 'X-Static': 'v' },
      requiresUserToken: true,
      userAuthentication: {
        type: 'oauth',
        displayName: 'Notion',
        clientId: { $env: 'NOTION_ID' },
        clientSecret: { $env: 'NOTION_SECRET' },
        authorizationUrl: 'https://api.notion.test/v1/oauth/authorize',
        tokenUrl: 'https://api.notion.test/v1/oauth/token',
        scopes: ['read'],
        tokenFormat: 'ntn_{{token}}',
      },
    };
    const result = parseConfig(file({ notion }), env);
    const server = serverOf(result, 'notion');
    expect(loaded(result).warnings).toEqual([]);
    expect(server.userAuthentication).toEqual({
      type: 'oauth',
      displayName: 'Notion',
      clientId: 'notion-client',
      clientSecret: 'notion-secret',
      authorizationUrl: 'https://api.notion.test/v1/oauth/authorize',
      tokenUrl: 'https://api.notion.test/v1/oauth/token',
      scopes: ['read'],
      tokenFormat: 'ntn_{{token}}',
    });
    if (server.transportType !== 'streamable-http' || !server.userAuthentication) throw new Error('expected a remote server');
    const filled = withUserToken(server, formatUserToken(server.userAuthentication, 'abc'));
    expect(filled).toMatchObject({
      url: 'https://mcp.notion.test/mcp?key=ntn_abc',
      headers: { Authorization: 'Bearer ntn_abc', 'X-Static': 'v' },
    });
    // In the URL a token is one component: it cannot add a path, a query or a fragment.
    const hostile = withUserToken(server, formatUserToken(server.userAuthentication, '../x?y=1#z&w'));
    expect(hostile.url).toBe('https://mcp.notion.test/mcp?key=ntn_..%2Fx%3Fy%3D1%23z%26w');
    expect(hostile.headers.Authorization).toBe('Bearer ntn_../x?y=1#z&w');
  });

  it('lets a remote oauth server name no endpoints and no client (auth discovers and registers)', () => {
    const linear = {
      transportType: 'streamable-http',
      url: 'https://mcp.linear.test/mcp',
      headers: { Authorization: { $userToken: 'Bearer {{token}}' } },
      requiresUserToken: true,
      userAuthentication: { type: 'oauth', displayName: 'Linear' },
    };
    const server = serverOf(parseConfig(file({ linear }), env), 'linear');
    expect(server.userAuthentication).toEqual({ type: 'oauth', displayName: 'Linear', scopes: [], tokenFormat: '{{token}}' });
  });

  it('keeps a token filled into an inline tool opaque to the call arguments', () => {
    const ops = {
      transportType: 'inline',
      requiresUserToken: true,
      userAuthentication: manual,
      inline: {
        tools: [
          {
            name: 'echo',
            inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
            command: 'echo',
            args: ['{{message}}', { $userToken: '{{token}}' }],
            env: { KEY: { $userToken: 'Bearer {{token}}' } },
          },
        ],
      },
    };
    const server = serverOf(parseConfig(file({ ops }), env), 'ops');
    const filled = withUserToken(server, 'tok-{{message}}');
    if (filled.transportType !== 'inline') throw new Error('expected inline');
    expect(filled.tools[0]).toMatchObject({
      args: ['{{message}}', 'tok-{{message}}'],
      env: { KEY: 'Bearer tok-{{message}}' },
      opaque: { args: [1], env: ['KEY'] },
    });
    if (server.transportType !== 'inline') throw new Error('expected inline');
    expect(server.tools[0]?.opaque).toBeUndefined();
  });

  it("gives a service caller's userToken to the server's serviceAuths, and refuses a $userToken there", () => {
    const server = serverOf(
      parseConfig(
        file({ linear: stdioWithToken({ serviceAuths: [{ type: 'bearer', tokens: ['ci-token-123456'], userToken: { $env: 'SVC' } }] }) }),
        env,
      ),
      'linear',
    );
    expect(server.serviceAuths).toEqual([{ type: 'bearer', tokens: ['ci-token-123456'], userToken: 'svc-own' }]);
    const bad = file({
      linear: stdioWithToken({
        serviceAuths: [{ type: 'basic', username: 'ci', password: { $env: 'SVC' }, userToken: { $userToken: '{{token}}' } }],
      }),
    });
    expect(problemsOf(parseConfig(bad, env))).toEqual([
      {
        path: 'mcpServers.linear.serviceAuths[0].userToken',
        message: expect.stringContaining('a service caller is not a person') as string,
      },
    ]);
  });

  it('refuses a $userToken as a basic password', () => {
    const bad = file({
      linear: stdioWithToken({ serviceAuths: [{ type: 'basic', username: 'ci', password: { $userToken: '{{token}}' } }] }),
    });
    expect(problemsOf(parseConfig(bad, env)).map((p) => p.path)).toEqual(['mcpServers.linear.serviceAuths[0].password']);
  });

  it('reports each misuse at its key', () => {
    const result = parseConfig(
      file({
        noauth: stdioWithToken({ userAuthentication: undefined }),
        plain: { transportType: 'stdio', command: 'node', env: { K: { $userToken: '{{token}}' } } },
        badregex: stdioWithToken({ userAuthentication: { ...manual, validation: '([a-z' } }),
        stdiooauth: stdioWithToken({ userAuthentication: { type: 'oauth', clientId: 'c' } }),
        half: {
          transportType: 'sse',
          url: 'https://x.test/sse',
          headers: { Authorization: { $userToken: 'Bearer {{token}}' } },
          requiresUserToken: true,
          userAuthentication: { type: 'oauth', tokenUrl: 'https://x.test/token' },
        },
        help: stdioWithToken({ userAuthentication: { ...manual, helpUrl: 'javascript:alert(1)' } }),
        all: { type: 'aggregate', servers: ['plain'], requiresUserToken: true },
      }),
      env,
    );
    expect(problemsOf(result)).toEqual([
      { path: 'mcpServers.noauth.userAuthentication', message: 'required when requiresUserToken is true' },
      { path: 'mcpServers.plain.env.K', message: 'a {"$userToken": …} value needs "requiresUserToken": true on this server' },
      {
        path: 'mcpServers.badregex.userAuthentication.validation',
        message: expect.stringMatching(/^expected a regular expression: /) as string,
      },
      { path: 'mcpServers.stdiooauth.userAuthentication.authorizationUrl', message: expect.stringContaining('only a remote') as string },
      { path: 'mcpServers.stdiooauth.userAuthentication.tokenUrl', message: expect.stringContaining('only a remote') as string },
      {
        path: 'mcpServers.half.userAuthentication.authorizationUrl',
        message: expect.stringContaining('with the other endpoint') as string,
      },
      { path: 'mcpServers.help.userAuthentication.helpUrl', message: 'expected an absolute http(s) URL' },
      { path: 'mcpServers.all.requiresUserToken', message: expect.stringContaining('an aggregate cannot require a user token') as string },
    ]);
  });

  it('refuses requiresUserToken without proxy.auth: no person to hold the credential', () => {
    expect(problemsOf(parseConfig(file({ linear: stdioWithToken() }, false), env))).toEqual([
      { path: 'mcpServers.linear.requiresUserToken', message: expect.stringContaining('needs proxy.auth') as string },
    ]);
  });

  it('warns about a template without {{token}} and a token that reaches no backend', () => {
    const result = parseConfig(
      file({
        a: stdioWithToken({ env: { K: { $userToken: 'static' } }, args: [] }),
        b: { transportType: 'stdio', command: 'node', requiresUserToken: true, userAuthentication: manual },
      }),
      env,
    );
    expect(loaded(result).warnings).toEqual([
      "mcpServers.a.env.K: the template has no {{token}}, so the person's token is not used here",
      'mcpServers.b: requiresUserToken is true but no value is {"$userToken": …}, so the person\'s token reaches no backend',
    ]);
  });

  it("reads mcp-front's tokenSetup as a manual userAuthentication whose tokenFormat was the validation regex", () => {
    const result = parseConfig(
      file({
        linear: stdioWithToken({
          userAuthentication: undefined,
          tokenSetup: {
            displayName: 'Linear',
            instructions: 'Paste it',
            helpUrl: 'https://linear.test/settings',
            tokenFormat: '^lin_api_',
          },
        }),
      }),
      env,
    );
    const server = serverOf(result, 'linear');
    expect(server.userAuthentication).toEqual({
      type: 'manual',
      displayName: 'Linear',
      instructions: 'Paste it',
      helpUrl: 'https://linear.test/settings',
      validation: /^lin_api_/,
      tokenFormat: '{{token}}',
    });
    expect(loaded(result).warnings).toEqual([
      expect.stringMatching(/^mcpServers\.linear\.tokenSetup: .*write userAuthentication instead$/),
    ]);
  });

  it("reads mcp-front's options.authTokens as a bearer serviceAuth, with a warning naming serviceAuths", () => {
    const result = parseConfig(
      file({ db: { transportType: 'stdio', command: 'node', options: { authTokens: ['tok-0123456789'] } } }, false),
      env,
    );
    expect(serverOf(result, 'db').serviceAuths).toEqual([{ type: 'bearer', tokens: ['tok-0123456789'] }]);
    expect(loaded(result).warnings).toContainEqual(
      expect.stringMatching(/^mcpServers\.db\.options\.authTokens: .*write serviceAuths instead$/),
    );
  });

  it('validates examples/per-user-credentials.json', () => {
    const path = fileURLToPath(new URL('../../../examples/per-user-credentials.json', import.meta.url));
    const result = loadConfig(path, { ...env, LINEAR_CLIENT_SECRET: 'linear-secret' });
    const { config } = loaded(result);
    expect(Object.values(config.servers).map((s) => [s.name, s.userAuthentication?.type])).toEqual([
      ['notes', 'manual'],
      ['linear', 'oauth'],
    ]);
  });
});
