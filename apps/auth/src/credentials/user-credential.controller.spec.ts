import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { LocalBus } from '#bus';
import { parseConfig, type GatehouseConfig, type RuntimeEnvironment } from '#config';
import { decode, UserCredentialReplySchema, userCredentialAad, userCredentialSubject } from '#contracts';
import { envelopeOf } from '#crypto';
import { createLogger, noMetrics } from '#observability';
import { startAuth, type RunningAuth } from '../main.js';
import { openAuthStore } from '../persistence/open-auth-store.js';
import { createUserCredentialService } from './user-credentials.factory.js';

const KEY = 'e'.repeat(32);
const dataDir = mkdtempSync(join(tmpdir(), 'gh-credential-controller-'));
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const env = { GATEHOUSE_DEV: '1', KEY, OIDC_SECRET: 'idp-secret' };

function gatewayConfig(): GatehouseConfig {
  const loaded = parseConfig(
    {
      version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
      proxy: {
        baseURL: 'http://127.0.0.1:18080',
        addr: ':18080',
        name: 'Test gateway',
        auth: {
          kind: 'oauth',
          idp: {
            provider: 'oidc',
            clientId: 'gh',
            clientSecret: { $env: 'OIDC_SECRET' },
            discoveryUrl: 'http://127.0.0.1:9/.well-known/openid-configuration',
          },
          allowedDomains: ['example.com'],
          encryptionKey: { $env: 'KEY' },
          storage: 'sqlite',
        },
      },
      mcpServers: { notion: { transportType: 'stdio', command: 'node', args: [] } },
    },
    env,
  );
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const { config } = loaded;
  // The file form of userAuthentication is parsed elsewhere; here the server is given it directly.
  const notion = config.servers.notion;
  if (notion === undefined) throw new Error('no notion server');
  notion.userAuthentication = { type: 'manual', displayName: 'Notion', tokenFormat: 'Bearer {{token}}' };
  return config;
}

describe('gh.auth.credentials.get over the bus', () => {
  let bus: LocalBus;
  let auth: RunningAuth;
  let config: GatehouseConfig;

  beforeAll(async () => {
    bus = new LocalBus();
    config = gatewayConfig();
    const runtime: RuntimeEnvironment = { natsUrl: 'unused', dataDir, devMode: true, logLevel: 'silent', databaseUrl: undefined };
    auth = await startAuth(bus, { config, runtime, log, metrics: noMetrics });
  });

  afterAll(async () => {
    await auth?.close();
    await bus?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ask = async (payload: unknown) => {
    const reply = await bus.request(userCredentialSubject, new TextEncoder().encode(JSON.stringify(payload)), { timeoutMs: 5000 });
    const decoded = decode(UserCredentialReplySchema, reply.data);
    if (!decoded.ok) throw new Error(decoded.error);
    return decoded.value;
  };

  it('answers missing with the page to visit, then the sealed formatted token once the person has set it', async () => {
    expect(await ask({ sub: 'ada', server: 'notion' })).toEqual({
      status: 'missing',
      connectUrl: 'http://127.0.0.1:18080/my/tokens',
      message: expect.stringContaining('Notion') as string,
    });
    // Stored the way the person's page stores it.
    const store = await openAuthStore({ type: 'sqlite', path: join(dataDir, 'gatehouse.db') });
    const service = createUserCredentialService({
      store,
      envelope: envelopeOf(KEY),
      servers: config.servers,
      issuer: 'http://127.0.0.1:18080',
      gatewayName: 'Test gateway',
      devMode: true,
      log,
    });
    await service.setManual({ id: 's1', sub: 'ada', authenticatedAt: Date.now() }, 'notion', 'ntn_123');
    await store.close();

    const reply = await ask({ sub: 'ada', server: 'notion' });
    if (reply.status !== 'ok') throw new Error(`expected ok, got ${reply.status}`);
    expect(envelopeOf(KEY).open(reply.sealed, userCredentialAad('ada', 'notion'))).toBe('Bearer ntn_123');
    expect((await ask({ sub: 'bob', server: 'notion' })).status).toBe('missing');
  });

  it.each([
    ['not JSON', 'not json'],
    ['without a server', { sub: 'ada' }],
    ['with an empty sub', { sub: '', server: 'notion' }],
    ['with a rejected hash too long', { sub: 'ada', server: 'notion', rejected: 'x'.repeat(101) }],
  ])('answers a request %s with a reply, not a throw', async (_label, payload) => {
    const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : new TextEncoder().encode(JSON.stringify(payload));
    const reply = await bus.request(userCredentialSubject, data, { timeoutMs: 5000 });
    expect(decode(UserCredentialReplySchema, reply.data)).toEqual({
      ok: true,
      value: { status: 'unavailable', message: 'Malformed credential request.' },
    });
  });

  it('answers unavailable for a server that takes no per-user credential', async () => {
    expect(await ask({ sub: 'ada', server: 'unknown' })).toMatchObject({ status: 'unavailable' });
  });
});
