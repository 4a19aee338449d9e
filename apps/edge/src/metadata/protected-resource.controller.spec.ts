import { PassThrough } from 'node:stream';
import { generateKeyPair, SignJWT } from 'jose';
import { LocalBus } from '#bus';
import type { AuthConfig, GatehouseConfig } from '#config';
import { AuthHttpRequestSchema, AuthHttpResponseSchema, authHttpQueue, authHttpSubject, decode, encode } from '#contracts';
import { createLogger, noMetrics } from '#observability';
import { stdioServerConfig } from '#testing';
import { startEdge, type RunningEdge } from '../main.js';

const BASE = 'https://mcp.example.com/gh';
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });

const db = stdioServerConfig('db');

const auth: AuthConfig = {
  issuer: BASE,
  idp: { provider: 'google', clientId: 'id', clientSecret: 'secret', redirectUri: `${BASE}/oauth/callback`, scopes: ['openid'] },
  policy: { allowedDomains: ['example.com'], allowedEmails: [], allowedGroups: [], allowedOrgs: [] },
  tokenTtlMs: 3_600_000,
  refreshTokenTtlMs: 86_400_000,
  browserSessionIdleTimeoutMs: 28_800_000,
  browserSessionMaxAgeMs: 604_800_000,
  refreshTokenReuseGraceMs: 10_000,
  storage: 'memory',
  encryptionKey: '0123456789abcdef0123456789abcdef',
  previousEncryptionKeys: [],
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
      sessions: {
        timeoutMs: 60_000,
        cleanupIntervalMs: 10_000,
        maxPerUser: 5,
        replay: { messages: 16, bytes: 65536 },
        pool: { size: 2, idleTimeoutMs: 300_000, inputTimeoutMs: 300_000, listTtlMs: 60_000 },
      },
      limits: { maxBodyBytes: 1_000_000, maxMessageBytes: 1_000_000 },
      allowedOrigins: [],
      allowedHosts: ['127.0.0.1'],
      audit: { enabled: false, arguments: false, redact: [], maxArgumentBytes: 2048, retentionMs: 0 },
    },
    ...(withAuth && { auth }),
    servers: { db },
  };
}

/** The edge as main.ts starts it, on a free loopback port (Fastify's inject does not load under jest's ESM). */
async function edge(bus: LocalBus, withAuth: boolean): Promise<{ app: RunningEdge; url: string }> {
  const app = await startEdge(bus, { config: config(withAuth), edgeId: 'edge-1', log, metrics: noMetrics }, { host: '127.0.0.1', port: 0 });
  return { app, url: `http://127.0.0.1:${app.address.port}` };
}

describe('ProtectedResourceController', () => {
  let bus: LocalBus;
  let app: RunningEdge;
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

  it.each([
    ['under the base path', '/gh/.well-known/oauth-protected-resource/db'],
    ['under the base path', '/gh/.well-known/oauth-protected-resource/db/mcp'],
    ['under the base path', '/gh/.well-known/oauth-protected-resource/db/sse'],
    ['at the origin root (RFC 9728 path insertion)', '/.well-known/oauth-protected-resource/gh/db'],
    ['at the origin root (RFC 9728 path insertion)', '/.well-known/oauth-protected-resource/gh/db/mcp'],
    ['at the origin root (RFC 9728 path insertion)', '/.well-known/oauth-protected-resource/gh/db/sse'],
  ])('serves the RFC 9728 metadata of a server %s: %s', async (_where, path) => {
    const res = await get(path);
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

  it.each(['/gh/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/gh'])(
    'serves the metadata of the gateway itself, named by proxy.name, at %s',
    async (path) => {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(await res.json()).toEqual({
        resource: BASE,
        authorization_servers: [BASE],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp'],
        resource_name: 'test',
      });
    },
  );

  it('answers an unknown server with a JSON 404', async () => {
    const res = await get('/gh/.well-known/oauth-protected-resource/nope');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: 'not_found' });
  });

  it.each(['/gh/.well-known/oauth-protected-resource/db/mcp', '/.well-known/oauth-protected-resource/gh/db/mcp'])(
    'answers the CORS preflight of a browser client at %s',
    async (path) => {
      const res = await get(path, { method: 'OPTIONS' });
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-allow-headers')).toContain('mcp-protocol-version');
    },
  );

  it('relays the authorization server metadata asked at the origin root to auth as the URL under the base path', async () => {
    const relayed: string[] = [];
    const subscription = bus.subscribe(
      authHttpSubject,
      (m) => {
        const request = decode(AuthHttpRequestSchema, m.data);
        relayed.push(request.ok ? request.value.url : 'malformed');
        m.respond(
          encode(AuthHttpResponseSchema, {
            status: 200,
            headers: { 'content-type': 'application/json' },
            body: Buffer.from('{}').toString('base64'),
          }),
        );
      },
      { queue: authHttpQueue },
    );
    try {
      for (const path of ['/.well-known/oauth-authorization-server/gh', '/.well-known/openid-configuration/gh?x=1']) {
        expect((await get(path)).status).toBe(200);
      }
      expect(relayed).toEqual(['/gh/.well-known/oauth-authorization-server', '/gh/.well-known/openid-configuration?x=1']);
      for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server/ghx']) {
        expect((await get(path)).status).toBe(404);
      }
      expect(relayed).toHaveLength(2);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('answers a token it cannot check while auth is not answering with 503 and Retry-After, not a challenge', async () => {
    // No JWKS responder on this bus: the edge has never loaded auth's keys.
    const { privateKey } = await generateKeyPair('ES256');
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await new SignJWT({ iss: BASE, sub: 'u', aud: [`${BASE}/db`], jti: 'j', exp })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })
      .sign(privateKey);
    const res = await get('/gh/db/mcp', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32000, message: 'the authorization service is not reachable; retry shortly' },
    });
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
      for (const path of ['/gh/.well-known/oauth-protected-resource/db', '/gh/.well-known/oauth-protected-resource']) {
        expect((await fetch(`${plain.url}${path}`)).status).toBe(404);
      }
    } finally {
      await plain.app.close();
      await plainBus.close();
    }
  });
});
