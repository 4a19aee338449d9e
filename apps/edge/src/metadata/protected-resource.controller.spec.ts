import { PassThrough } from 'node:stream';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LocalBus } from '#bus';
import type { AuthConfig, GatehouseConfig, StdioServerConfig } from '#config';
import { createLogger } from '#observability';
import { EdgeModule } from '../edge.module.js';

const BASE = 'https://mcp.example.com/gh';
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });

const db: StdioServerConfig = {
  name: 'db',
  transportType: 'stdio',
  command: 'node',
  args: [],
  env: {},
  timeoutMs: 1000,
  serviceAuths: [],
  runnerGroup: 'default',
};

const auth: AuthConfig = {
  issuer: BASE,
  idp: { provider: 'google', clientId: 'id', clientSecret: 'secret', redirectUri: `${BASE}/oauth/callback`, scopes: ['openid'] },
  policy: { allowedDomains: ['example.com'], allowedEmails: [], allowedGroups: [], allowedOrgs: [] },
  tokenTtlMs: 3_600_000,
  refreshTokenTtlMs: 86_400_000,
  storage: 'memory',
  encryptionKey: '0123456789abcdef0123456789abcdef',
  requireResource: false,
  acceptIssuerAudience: false,
  allowedRedirectUriHosts: [],
};

function config(withAuth: boolean): GatehouseConfig {
  return {
    version: 'v1',
    proxy: {
      baseURL: BASE,
      basePath: '/gh',
      addr: { host: '127.0.0.1', port: 0 },
      name: 'test',
      sessions: { timeoutMs: 60_000, cleanupIntervalMs: 10_000, maxPerUser: 5 },
      limits: { maxBodyBytes: 1_000_000 },
      allowedOrigins: [],
    },
    ...(withAuth && { auth }),
    servers: { db },
  };
}

/** The edge module as main.ts builds it, on a free loopback port (Fastify's inject does not load under jest's ESM). */
async function edge(bus: LocalBus, withAuth: boolean): Promise<{ app: NestFastifyApplication; url: string }> {
  const options = { config: config(withAuth), edgeId: 'edge-1', log };
  const app = await NestFactory.create<NestFastifyApplication>(EdgeModule.forRoot(bus, options), new FastifyAdapter(), { logger: false });
  app.setGlobalPrefix('/gh');
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

describe('ProtectedResourceController', () => {
  let bus: LocalBus;
  let app: NestFastifyApplication;
  let origin: string;
  const get = (path: string, init?: RequestInit) => fetch(`${origin}${path}`, init);

  beforeAll(async () => {
    bus = new LocalBus();
    ({ app, url: origin } = await edge(bus, true));
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
  });

  it.each(['', '/mcp', '/sse'])('serves the RFC 9728 metadata of a server at .../db%s', async (suffix) => {
    const res = await get(`/gh/.well-known/oauth-protected-resource/db${suffix}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await res.json()).toEqual({
      resource: `${BASE}/db`,
      authorization_servers: [BASE],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
      resource_name: 'db',
    });
  });

  it('answers an unknown server with a JSON 404', async () => {
    const res = await get('/gh/.well-known/oauth-protected-resource/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });

  it('answers the CORS preflight of a browser client', async () => {
    const res = await get('/gh/.well-known/oauth-protected-resource/db/mcp', { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
  });

  it('challenges an MCP request without a token towards that metadata', async () => {
    const res = await get('/gh/db/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${BASE}/.well-known/oauth-protected-resource/db", scope="mcp"`,
    );
  });

  it('is not there when OAuth is not configured', async () => {
    const plainBus = new LocalBus();
    const plain = await edge(plainBus, false);
    try {
      const res = await fetch(`${plain.url}/gh/.well-known/oauth-protected-resource/db`);
      expect(res.status).toBe(404);
    } finally {
      await plain.app.close();
      await plainBus.close();
    }
  });
});
