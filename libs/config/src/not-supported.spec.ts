import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigFileSchema, formatProblems, loadConfig, type ConfigProblem, type LoadResult } from './index.js';

let dir: string;
let count = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-not-supported-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(content: unknown): string {
  const file = join(dir, `config-${++count}.json`);
  writeFileSync(file, JSON.stringify(content, null, 2));
  return file;
}

function problemsOf(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error('expected problems, got a config');
  return result.problems;
}

const notSupported = (...paths: string[]) => paths.map((path) => ({ path, message: `not supported yet: ${path}` }));

const withServers = (mcpServers: Record<string, unknown>, proxy: Record<string, unknown> = {}) => ({
  version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
  proxy: { baseURL: 'https://mcp.example.com', ...proxy },
  mcpServers,
});

const stdio = { transportType: 'stdio', command: 'node' };
const manualAuth = { type: 'manual', displayName: 'Linear API key', instructions: 'Create a key in Linear settings' };

/** The mcp-front documentation's kind of file: OAuth, every transport, user tokens, aggregation. */
const fullMcpFrontExample = {
  version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
  proxy: {
    baseURL: 'https://mcp.company.com',
    addr: ':8080',
    name: 'company-mcp',
    sessions: { timeout: '5m', cleanupInterval: '1m', maxPerUser: 10 },
    auth: {
      kind: 'oauth',
      issuer: 'https://mcp.company.com',
      idp: {
        provider: 'oidc',
        clientId: { $env: 'OIDC_CLIENT_ID' },
        clientSecret: { $env: 'OIDC_CLIENT_SECRET' },
        redirectUri: 'https://mcp.company.com/oauth/callback',
        discoveryUrl: 'https://login.company.com/.well-known/openid-configuration',
        authorizationUrl: 'https://login.company.com/authorize',
        tokenUrl: 'https://login.company.com/token',
        userInfoUrl: 'https://login.company.com/userinfo',
        scopes: ['openid', 'email', 'profile'],
        tenantId: 'common',
        allowedOrgs: ['company'],
      },
      allowedDomains: ['company.com'],
      allowedOrigins: ['https://claude.ai'],
      tokenTtl: '1h',
      refreshTokenTtl: '720h',
      refreshTokenScopes: [],
      storage: 'firestore',
      jwtSecret: { $env: 'JWT_SECRET' },
      encryptionKey: { $env: 'ENCRYPTION_KEY' },
      dangerouslyAcceptIssuerAudience: false,
      allowedEmails: ['ops@company.com'],
      allowedGroups: ['engineering'],
      requireResource: true,
    },
  },
  mcpServers: {
    postgres: {
      type: 'direct',
      transportType: 'stdio',
      command: 'docker',
      args: ['run', '--rm', '-i', 'mcp/postgres', { $env: 'DATABASE_URL' }],
      env: { PGPASSWORD: { $env: 'PGPASSWORD' } },
      options: { toolFilter: { mode: 'allow', list: ['query'] } },
      serviceAuths: [{ type: 'basic', username: 'ci', password: { $env: 'CI_PASSWORD' } }],
    },
    linear: {
      transportType: 'sse',
      url: 'https://mcp.linear.app/sse',
      headers: { Authorization: { $userToken: 'Bearer {{token}}' } },
      timeout: '30s',
      requiresUserToken: true,
      userAuthentication: {
        ...manualAuth,
        helpUrl: 'https://linear.app/settings/api',
        validation: '^lin_api_[A-Za-z0-9]+$',
        tokenFormat: '{{token}}',
      },
    },
    notion: {
      transportType: 'streamable-http',
      url: { $userToken: 'https://mcp.notion.com/mcp?key={{token}}' },
      requiresUserToken: true,
      userAuthentication: {
        type: 'oauth',
        displayName: 'Notion',
        clientId: { $env: 'NOTION_CLIENT_ID' },
        clientSecret: { $env: 'NOTION_CLIENT_SECRET' },
        authorizationUrl: 'https://api.notion.com/v1/oauth/authorize',
        tokenUrl: 'https://api.notion.com/v1/oauth/token',
        scopes: ['read'],
      },
    },
    tools: {
      transportType: 'inline',
      inline: {
        description: 'Ops helpers',
        tools: [
          {
            name: 'uptime',
            description: 'Host uptime',
            inputSchema: { type: 'object', properties: { host: { type: 'string' } } },
            command: 'uptime',
            args: [{ $env: 'UPTIME_FLAGS' }],
            env: { LANG: 'C' },
            timeout: '10s',
          },
        ],
      },
    },
    everything: {
      type: 'aggregate',
      transportType: 'streamable-http',
      servers: ['postgres', 'linear'],
      delimiter: '.',
      discovery: { timeout: '10s', cacheTtl: '60s', maxConnsPerUser: 0 },
    },
  },
};

describe('keys that are not supported yet', () => {
  it('accepts a full mcp-front example with proxy.auth in the schema', () => {
    const parsed = ConfigFileSchema.safeParse(fullMcpFrontExample);
    if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
    expect(parsed.data.mcpServers.linear?.headers?.Authorization).toEqual({ kind: 'userToken', template: 'Bearer {{token}}' });
    expect(parsed.data.proxy.auth?.refreshTokenTtl).toBe(2_592_000_000);
  });

  it('reports that example as not supported, not as schema errors', () => {
    const env = {
      ...{ DATABASE_URL: 'postgres://db', PGPASSWORD: 'pw', CI_PASSWORD: 'ci', OIDC_CLIENT_ID: 'id', OIDC_CLIENT_SECRET: 'secret' },
      ...{ JWT_SECRET: 'j'.repeat(32), ENCRYPTION_KEY: 'k'.repeat(32), UPTIME_FLAGS: '-p' },
    };
    const problems = problemsOf(loadConfig(writeConfig(fullMcpFrontExample), env));
    expect(problems).toEqual([
      ...notSupported(
        'mcpServers.linear.headers.Authorization',
        'mcpServers.linear.requiresUserToken',
        'mcpServers.linear.userAuthentication',
        'mcpServers.notion.url',
        'mcpServers.notion.requiresUserToken',
        'mcpServers.notion.userAuthentication',
      ),
      { path: 'proxy.auth.storage', message: 'Gatehouse has no Firestore: use "sqlite" or "postgres" (DATABASE_URL)' },
    ]);
    // $env values inside unsupported sections are not resolved, so unset ones add no noise.
    expect(formatProblems(problems)).not.toMatch(/environment variable/);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['requiresUserToken', { ...stdio, requiresUserToken: true }, ['requiresUserToken']],
    ['userAuthentication', { ...stdio, userAuthentication: manualAuth }, ['userAuthentication']],
    ['options.authTokens', { ...stdio, options: { authTokens: ['t'] } }, ['options.authTokens']],
    ['a $userToken in args', { ...stdio, args: ['--key', { $userToken: '{{token}}' }] }, ['args[1]']],
    ['a $userToken in env', { ...stdio, env: { API_KEY: { $userToken: '{{token}}' } } }, ['env.API_KEY']],
    [
      'a serviceAuth userToken',
      { ...stdio, serviceAuths: [{ type: 'bearer', tokens: ['t'], userToken: { $userToken: '{{token}}' } }] },
      ['serviceAuths[0].userToken'],
    ],
  ])('%s', (_name, server, keys) => {
    const problems = problemsOf(loadConfig(writeConfig(withServers({ s: server })), {}));
    expect(problems).toEqual(notSupported(...keys.map((key) => `mcpServers.s.${key}`)));
  });

  it('supports stdio servers with toolFilter, serviceAuths and requiresUserToken: false', () => {
    const server = {
      ...stdio,
      requiresUserToken: false,
      options: { toolFilter: { mode: 'allow', list: ['echo'] } },
      serviceAuths: [{ type: 'bearer', tokens: ['t'] }],
    };
    const result = loadConfig(writeConfig(withServers({ s: server })), {});
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.config.servers.s?.toolFilter).toEqual({ mode: 'allow', list: ['echo'] });
  });

  it('is reported together with schema errors', () => {
    const config = withServers({ notes: { ...stdio, requiresUserToken: true, timeout: 'later' } });
    const problems = problemsOf(loadConfig(writeConfig(config), {}));
    expect(problems).toEqual([
      { path: 'mcpServers.notes.timeout', message: expect.stringContaining('invalid duration "later"') as string },
      ...notSupported('mcpServers.notes.requiresUserToken'),
    ]);
  });
});
