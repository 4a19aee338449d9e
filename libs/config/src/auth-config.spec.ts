import { fileURLToPath } from 'node:url';
import { formatProblems, loadConfig, parseConfig, type ConfigProblem, type LoadResult } from './index.js';

const KEY = 'k'.repeat(32);
const env = { IDP_SECRET: 'idp-secret', ENCRYPTION_KEY: KEY };

function fileWith(auth: Record<string, unknown>, baseURL = 'https://mcp.example.com/gw') {
  return {
    version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
    proxy: {
      baseURL,
      auth: {
        kind: 'oauth',
        idp: { provider: 'google', clientId: 'client', clientSecret: { $env: 'IDP_SECRET' } },
        allowedDomains: ['Example.COM'],
        encryptionKey: { $env: 'ENCRYPTION_KEY' },
        ...auth,
      },
    },
    mcpServers: { db: { transportType: 'stdio', command: 'node' } },
  };
}

function configOf(result: LoadResult) {
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result;
}

function problemsOf(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error('expected problems, got a config');
  return result.problems;
}

describe('proxy.auth', () => {
  it('resolves a Google setup with defaults', () => {
    const { config, warnings } = configOf(parseConfig(fileWith({}), env));
    expect(config.auth).toEqual({
      issuer: 'https://mcp.example.com/gw',
      idp: {
        provider: 'google',
        clientId: 'client',
        clientSecret: 'idp-secret',
        redirectUri: 'https://mcp.example.com/gw/oauth/callback',
        scopes: ['openid', 'email', 'profile'],
      },
      policy: { allowedDomains: ['example.com'], allowedEmails: [], allowedGroups: [], allowedOrgs: [] },
      tokenTtlMs: 3_600_000,
      refreshTokenTtlMs: 2_592_000_000,
      refreshTokenReuseGraceMs: 10_000,
      storage: 'sqlite',
      encryptionKey: KEY,
      previousEncryptionKeys: [],
      requireResource: false,
      acceptIssuerAudience: false,
      allowedRedirectUriHosts: [],
    });
    expect(warnings).toEqual([]);
  });

  it('takes an issuer and redirect URI equal to baseURL (trailing slash aside), durations and the Gatehouse keys', () => {
    const auth = {
      issuer: 'https://mcp.example.com/gw/',
      idp: { provider: 'oidc', clientId: 'c', clientSecret: 's', discoveryUrl: 'https://idp.test/.well-known/openid-configuration' },
      tokenTtl: '15m',
      refreshTokenTtl: '24h',
      allowedEmails: ['Ops@Example.com'],
      allowedGroups: ['Eng'],
      requireResource: true,
    };
    const { config } = configOf(parseConfig(fileWith(auth), env));
    expect(config.auth).toMatchObject({
      issuer: 'https://mcp.example.com/gw',
      tokenTtlMs: 900_000,
      refreshTokenTtlMs: 86_400_000,
      requireResource: true,
      policy: { allowedEmails: ['ops@example.com'], allowedGroups: ['Eng'] },
    });
  });

  it('takes a refresh-token reuse grace window from 0s (off) to 1m', () => {
    const graceOf = (refreshTokenReuseGrace: string) =>
      configOf(parseConfig(fileWith({ refreshTokenReuseGrace }), env)).config.auth?.refreshTokenReuseGraceMs;
    expect([graceOf('0s'), graceOf('0'), graceOf('2s'), graceOf('1m')]).toEqual([0, 0, 2_000, 60_000]);
    for (const [value, message] of [
      ['61s', 'expected at most "1m" (0s turns it off), got "61s"'],
      ['-1s', expect.stringContaining('must not be negative')],
      ['soon', expect.stringContaining('expected a duration')],
    ]) {
      expect(problemsOf(parseConfig(fileWith({ refreshTokenReuseGrace: value }), env))).toEqual([
        { path: 'proxy.auth.refreshTokenReuseGrace', message },
      ]);
    }
  });

  it('lists every problem of a bad setup', () => {
    const auth = {
      issuer: 'https://elsewhere.example.com',
      idp: { provider: 'oidc', redirectUri: 'https://elsewhere.example.com/cb' },
      allowedDomains: [],
      encryptionKey: 'too short',
      storage: 'firestore',
    };
    const paths = problemsOf(parseConfig(fileWith(auth), env)).map((p) => p.path);
    expect(paths).toEqual([
      'proxy.auth.issuer',
      'proxy.auth.idp.redirectUri',
      'proxy.auth.idp',
      'proxy.auth',
      'proxy.auth.encryptionKey',
      'proxy.auth.idp.clientId',
      'proxy.auth.idp.clientSecret',
      'proxy.auth.storage',
    ]);
  });

  it('needs https unless dev mode serves on loopback', () => {
    const http = fileWith({}, 'http://127.0.0.1:8080');
    expect(problemsOf(parseConfig(http, env))).toEqual([{ path: 'proxy.baseURL', message: expect.stringContaining('https baseURL') }]);
    expect(configOf(parseConfig(http, { ...env, GATEHOUSE_DEV: '1' })).config.auth?.issuer).toBe('http://127.0.0.1:8080');
    const lan = fileWith({}, 'http://10.0.0.5:8080');
    expect(problemsOf(parseConfig(lan, { ...env, GATEHOUSE_DEV: '1' }))[0]?.path).toBe('proxy.baseURL');
  });

  it('needs a tenant for azure and DATABASE_URL for postgres', () => {
    const azure = fileWith({ idp: { provider: 'azure', clientId: 'c', clientSecret: 's' }, storage: 'postgres' });
    expect(problemsOf(parseConfig(azure, env)).map((p) => p.path)).toEqual(['proxy.auth.idp.tenantId', 'proxy.auth.storage']);
    const withDb = fileWith({ storage: 'postgres' });
    expect(configOf(parseConfig(withDb, { ...env, DATABASE_URL: 'postgres://db' })).config.auth?.storage).toBe('postgres');
  });

  it('warns about keys Gatehouse accepts but does not use, and about memory storage', () => {
    const { warnings } = configOf(parseConfig(fileWith({ jwtSecret: 'x'.repeat(32), storage: 'memory', refreshTokenScopes: [] }), env));
    expect(warnings).toEqual([
      expect.stringContaining('proxy.auth.jwtSecret: accepted and ignored: Gatehouse signs ES256 tokens'),
      expect.stringContaining('proxy.auth.refreshTokenScopes: accepted and ignored: '),
      expect.stringContaining('proxy.auth.storage: "memory" means SQLite in a temporary file'),
    ]);
  });

  it('takes allowedRedirectUriHosts entries as hosts or origins, and refuses anything else', () => {
    const hosts = ['Claude.ai', 'https://Claude.ai', 'https://app.example.com:8443/', '[::1]'];
    const { config } = configOf(parseConfig(fileWith({ allowedRedirectUriHosts: hosts }), env));
    expect(config.auth?.allowedRedirectUriHosts).toEqual(['claude.ai', 'https://claude.ai', 'https://app.example.com:8443', '[::1]']);
    const bad = fileWith({ allowedRedirectUriHosts: ['https://claude.ai/cb', 'claude.ai:443', 'https://'] });
    expect(problemsOf(parseConfig(bad, env)).map((p) => p.path)).toEqual([0, 1, 2].map((i) => `proxy.auth.allowedRedirectUriHosts[${i}]`));
  });

  it("reads mcp-front's earlier Google keys as idp, with a warning, and refuses them beside idp", () => {
    const legacy = fileWith({
      idp: undefined,
      googleClientId: 'legacy-client',
      googleClientSecret: { $env: 'IDP_SECRET' },
      googleRedirectUri: 'https://mcp.example.com/gw/oauth/callback',
    });
    const { config, warnings } = configOf(parseConfig(legacy, env));
    expect(config.auth?.idp).toEqual({
      provider: 'google',
      clientId: 'legacy-client',
      clientSecret: 'idp-secret',
      redirectUri: 'https://mcp.example.com/gw/oauth/callback',
      scopes: ['openid', 'email', 'profile'],
    });
    expect(warnings).toEqual([
      expect.stringContaining("proxy.auth: googleClientId, googleClientSecret, googleRedirectUri (mcp-front's earlier form)"),
    ]);
    expect(problemsOf(parseConfig(fileWith({ googleClientId: 'x' }), env))).toEqual([
      { path: 'proxy.auth.googleClientId', message: 'cannot be combined with idp; move it into idp' },
    ]);
    expect(problemsOf(parseConfig(fileWith({ idp: undefined }), env))).toContainEqual({
      path: 'proxy.auth.idp',
      message: 'required when proxy.auth is set',
    });
  });

  it('refuses allowAnyRedirectUriHost beside a list of hosts, as mcp-front does', () => {
    expect(configOf(parseConfig(fileWith({ allowAnyRedirectUriHost: true }), env)).config.auth?.allowedRedirectUriHosts).toEqual([]);
    const both = fileWith({ allowAnyRedirectUriHost: true, allowedRedirectUriHosts: ['claude.ai'] });
    expect(problemsOf(parseConfig(both, env))).toEqual([
      { path: 'proxy.auth.allowAnyRedirectUriHost', message: 'cannot be combined with a non-empty allowedRedirectUriHosts' },
    ]);
  });

  it.each([
    ['oauth-google.json', { GOOGLE_CLIENT_ID: 'id', GOOGLE_CLIENT_SECRET: 'secret' }, 'google'],
    ['oauth-oidc.json', { OIDC_CLIENT_ID: 'id', OIDC_CLIENT_SECRET: 'secret', DATABASE_URL: 'postgres://db' }, 'oidc'],
    ['tool-access.json', { OIDC_CLIENT_ID: 'id', OIDC_CLIENT_SECRET: 'secret' }, 'oidc'],
  ])('loads examples/%s', (file, vars, provider) => {
    const path = fileURLToPath(new URL(`../../../examples/${file}`, import.meta.url));
    const { config, warnings } = configOf(loadConfig(path, { ...vars, GATEHOUSE_ENCRYPTION_KEY: KEY }));
    expect(warnings).toEqual([]);
    expect(config.auth?.idp).toMatchObject({ provider, redirectUri: 'https://mcp.example.com/oauth/callback' });
  });
});

describe('proxy.auth.previousEncryptionKeys', () => {
  it('keeps the keys encryptionKey replaced, each exactly 32 bytes', () => {
    const old = 'abcdefghijabcdefghijabcdefghij01';
    const { config } = configOf(parseConfig(fileWith({ previousEncryptionKeys: [old] }), env));
    expect(config.auth?.previousEncryptionKeys).toEqual([old]);
    expect(problemsOf(parseConfig(fileWith({ previousEncryptionKeys: ['short'] }), env))).toContainEqual({
      path: 'proxy.auth.previousEncryptionKeys[0]',
      message: 'expected exactly 32 bytes',
    });
  });
});
