import { ConfigFileSchema, parseConfig, type ConfigProblem, type LoadResult } from './index.js';

function problemsOf(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error('expected problems, got a config');
  return result.problems;
}
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

describe("mcp-front's documented example, per-user credentials included", () => {
  it('parses in the schema', () => {
    const parsed = ConfigFileSchema.safeParse(fullMcpFrontExample);
    if (!parsed.success) throw new Error(JSON.stringify(parsed.error.issues));
    expect(parsed.data.mcpServers.linear?.headers?.Authorization).toEqual({ kind: 'userToken', template: 'Bearer {{token}}' });
    expect(parsed.data.proxy.auth?.refreshTokenTtl).toBe(2_592_000_000);
  });

  it('loads with no key refused but Firestore storage', () => {
    const env = {
      ...{ DATABASE_URL: 'postgres://db', PGPASSWORD: 'pw', CI_PASSWORD: 'ci', OIDC_CLIENT_ID: 'id', OIDC_CLIENT_SECRET: 'secret' },
      ...{ JWT_SECRET: 'j'.repeat(32), ENCRYPTION_KEY: 'k'.repeat(32), UPTIME_FLAGS: '-p' },
      ...{ NOTION_CLIENT_ID: 'notion-id', NOTION_CLIENT_SECRET: 'notion-secret' },
    };
    expect(problemsOf(parseConfig(fullMcpFrontExample, env))).toEqual([
      { path: 'proxy.auth.storage', message: 'Gatehouse has no Firestore: use "sqlite" or "postgres" (DATABASE_URL)' },
    ]);
    const sqlite = {
      ...fullMcpFrontExample,
      proxy: { ...fullMcpFrontExample.proxy, auth: { ...fullMcpFrontExample.proxy.auth, storage: 'sqlite' } },
    };
    const result = parseConfig(sqlite, env);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.config.servers.linear?.userToken?.slots).toEqual([{ path: ['headers', 'Authorization'], template: 'Bearer {{token}}' }]);
    expect(result.config.servers.notion?.userToken?.slots).toEqual([
      { path: ['url'], template: 'https://mcp.notion.com/mcp?key={{token}}' },
    ]);
  });
});
