import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { RemoteServerConfig } from '#config';
import { userCredentialAad } from '#contracts';
import { envelopeOf, sha256Base64Url } from '#crypto';
import { createLogger } from '#observability';
import { ScriptedBrowser, startStandInIdp, type StandInIdp } from '#testing';
import type { AuthStore } from '../persistence/auth-store.port.js';
import { openAuthStore } from '../persistence/open-auth-store.js';
import { discoverAuthorization } from './upstream-discovery.js';
import { createUserCredentialService } from './user-credentials.factory.js';
import type { UserCredentialService } from './user-credential.service.js';
import { CredentialRefused } from './user-credentials.port.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const ISSUER = 'https://gh.example.com';
const KEY = 'd'.repeat(32);

/** How the protected MCP endpoint advertises its authorization server. */
type Advertising = 'challenge' | 'well-known only' | 'nothing';

/**
 * A remote MCP server's front door as the MCP authorization spec has it: an unauthenticated request
 * gets 401 with `WWW-Authenticate: Bearer resource_metadata=…`, and RFC 9728 metadata names the
 * authorization server. Requests carrying a token are answered as the MCP server would not be reached here.
 */
async function startProtectedMcp(authorizationServer: () => string, advertising: Advertising): Promise<{ url: string; server: Server }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const base = `http://${req.headers.host ?? ''}`;
    const metadataPath = '/.well-known/oauth-protected-resource/mcp';
    if (req.method === 'GET' && req.url === metadataPath && advertising !== 'nothing') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ resource: `${base}/mcp`, authorization_servers: [authorizationServer()], scopes_supported: ['mcp'] }));
      return;
    }
    if (req.url === '/mcp' && req.headers.authorization === undefined) {
      const challenge = advertising === 'challenge' ? `Bearer resource_metadata="${base}${metadataPath}", scope="mcp"` : 'Bearer';
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_token' }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return { url: `http://127.0.0.1:${address.port}/mcp`, server };
}

const remote = (name: string, url: string, displayName: string): RemoteServerConfig => ({
  name,
  transportType: 'streamable-http',
  url,
  headers: {},
  timeoutMs: 1000,
  serviceAuths: [],
  runnerGroup: 'default',
  userAuthentication: { type: 'oauth', displayName, scopes: [], tokenFormat: 'Bearer {{token}}' },
});

describe('connecting a remote MCP server that names only its URL: discovery and dynamic registration', () => {
  let upstream: StandInIdp;
  let closed: StandInIdp;
  let store: AuthStore;
  let service: UserCredentialService;
  const servers: Server[] = [];
  const mcp: Record<string, string> = {};

  beforeAll(async () => {
    upstream = await startStandInIdp({
      users: { ada: { sub: 'ada-at-linear', email: 'ada@linear.test', email_verified: true } },
      clients: [],
      upstream: { registration: true, refreshTokens: true, revocation: true, resourceScope: 'mcp' },
    });
    // An authorization server that takes no registrations.
    closed = await startStandInIdp({ users: { ada: { sub: 'a', email: 'a@x.test', email_verified: true } }, clients: [] });
    for (const [name, issuer, advertising] of [
      ['linear', () => upstream.issuer, 'challenge'],
      ['quiet', () => upstream.issuer, 'well-known only'],
      ['bare', () => upstream.issuer, 'nothing'],
      ['closed', () => closed.issuer, 'challenge'],
    ] as const) {
      const started = await startProtectedMcp(issuer, advertising);
      servers.push(started.server);
      mcp[name] = started.url;
    }
    store = await openAuthStore({ type: 'sqlite', path: ':memory:' });
    service = createUserCredentialService({
      store,
      envelope: envelopeOf(KEY),
      servers: Object.fromEntries(Object.entries(mcp).map(([name, url]) => [name, remote(name, url, `Service ${name}`)])),
      issuer: ISSUER,
      gatewayName: 'Test gateway',
      devMode: true,
      log,
    });
  });

  afterAll(async () => {
    await store?.close();
    await upstream?.close();
    await closed?.close();
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
  });

  async function connect(name: string, sub: string): Promise<URL> {
    const person = { id: `browser-${sub}`, sub, authenticatedAt: Date.now() };
    const start = await service.beginConnect(person, name);
    const callback = await new ScriptedBrowser().follow(start, `${ISSUER}/oauth/callback/${name}`);
    await service.completeConnect(person, name, callback);
    return start;
  }

  it('finds the authorization server from the 401 challenge, registers once, and connects with the server URL as resource', async () => {
    const start = await connect('linear', 'ada');
    expect(start.origin).toBe(upstream.issuer);
    expect(start.searchParams.get('resource')).toBe(mcp.linear);
    expect(start.searchParams.get('scope')).toBe('mcp');
    expect(start.searchParams.get('redirect_uri')).toBe(`${ISSUER}/oauth/callback/linear`);
    const registered = await store.upstreamClients.find('linear');
    expect(registered).toMatchObject({ issuer: upstream.issuer, resource: mcp.linear, clientId: start.searchParams.get('client_id') });
    // The client secret the authorization server issued is stored sealed.
    expect(registered?.sealedClientSecret).toMatch(/^v1\./);

    const reply = await service.credentialFor('ada', 'linear');
    if (reply.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(reply)}`);
    const token = envelopeOf(KEY).open(reply.sealed, userCredentialAad('ada', 'linear'));
    expect(token).toMatch(/^Bearer \S{20,}$/);
    // Refreshed (with the same resource) when the MCP server refuses it.
    const before = upstream.grantCount('refresh_token');
    const refreshed = await service.credentialFor('ada', 'linear', sha256Base64Url(token));
    expect(refreshed.status === 'ok' && envelopeOf(KEY).open(refreshed.sealed, userCredentialAad('ada', 'linear'))).not.toBe(token);
    expect(upstream.grantCount('refresh_token')).toBe(before + 1);

    // The registration is reused for the next person.
    const second = await connect('linear', 'bob');
    expect(second.searchParams.get('client_id')).toBe(registered?.clientId);
    expect((await store.upstreamClients.find('linear'))?.createdAt).toBe(registered?.createdAt);
  });

  it('registers again when the stored registration has expired, or the authorization server no longer accepts it', async () => {
    await connect('linear', 'carol');
    const registered = await store.upstreamClients.find('linear');
    if (registered === undefined) throw new Error('not registered');
    await store.upstreamClients.save({
      ...registered,
      metadata: { ...registered.metadata, 'x-gatehouse-secret-expires-at': Date.now() - 1 },
    });
    const start = await connect('linear', 'carol');
    const renewed = await store.upstreamClients.find('linear');
    expect(renewed?.clientId).not.toBe(registered.clientId);
    expect(start.searchParams.get('client_id')).toBe(renewed?.clientId);

    // The authorization server refuses the stored client (here: a secret it never issued).
    if (renewed === undefined) throw new Error('not registered');
    await store.upstreamClients.save({
      ...renewed,
      sealedClientSecret: envelopeOf(KEY).seal('wrong', 'upstream-client-secret\u0000linear'),
    });
    await expect(connect('linear', 'dave')).rejects.toThrow(/refused the connection \(invalid_client\)/);
    expect(await store.upstreamClients.find('linear')).toBeUndefined();
    await connect('linear', 'dave');
    expect((await store.upstreamClients.find('linear'))?.clientId).not.toBe(renewed.clientId);
  });

  it('falls back to the well-known protected-resource metadata when the challenge names none', async () => {
    await connect('quiet', 'ada');
    expect((await service.credentialFor('ada', 'quiet')).status).toBe('ok');
  });

  it('refuses, with a message the person can act on, a server that publishes no metadata or an authorization server that takes no registration', async () => {
    const person = { id: 'b', sub: 'ada', authenticatedAt: Date.now() };
    await expect(service.beginConnect(person, 'bare')).rejects.toThrow(
      /could not find how to connect to Service bare: .*protected-resource metadata/,
    );
    await expect(service.beginConnect(person, 'closed')).rejects.toThrow(/does not let Gatehouse register itself/);
    await expect(service.beginConnect(person, 'closed')).rejects.toBeInstanceOf(CredentialRefused);
  });

  it('refuses, as a service that could not be reached, an authorization server whose registration endpoint does not answer', async () => {
    // An authorization server whose metadata names a registration endpoint on a port nothing listens on.
    const as = createServer((req: IncomingMessage, res: ServerResponse) => {
      const base = `http://${req.headers.host ?? ''}`;
      if (req.method === 'GET' && req.url?.startsWith('/.well-known/') === true) {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            issuer: base,
            authorization_endpoint: `${base}/authorize`,
            token_endpoint: `${base}/token`,
            registration_endpoint: 'http://127.0.0.1:1/register',
            code_challenge_methods_supported: ['S256'],
          }),
        );
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => as.listen(0, '127.0.0.1', resolve));
    servers.push(as);
    const address = as.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    const protectedMcp = await startProtectedMcp(() => `http://127.0.0.1:${address.port}`, 'challenge');
    servers.push(protectedMcp.server);
    const unreachable = createUserCredentialService({
      store,
      envelope: envelopeOf(KEY),
      servers: { gone: remote('gone', protectedMcp.url, 'Service gone') },
      issuer: ISSUER,
      gatewayName: 'Test gateway',
      devMode: true,
      log,
    });
    const person = { id: 'b', sub: 'ada', authenticatedAt: Date.now() };
    const attempt = unreachable.beginConnect(person, 'gone');
    await expect(attempt).rejects.toBeInstanceOf(CredentialRefused);
    await expect(attempt).rejects.toThrow(/Service gone could not be reached; try again/);
  });

  it('re-seals the registered client secret under the current key after a key rotation', async () => {
    await connect('linear', 'erin');
    const NEW_KEY = 'e'.repeat(32);
    const rotated = createUserCredentialService({
      store,
      envelope: envelopeOf(NEW_KEY, [KEY]),
      servers: { linear: remote('linear', mcp.linear ?? '', 'Service linear') },
      issuer: ISSUER,
      gatewayName: 'Test gateway',
      devMode: true,
      log,
    });
    await rotated.beginConnect({ id: 'browser-erin', sub: 'erin', authenticatedAt: Date.now() }, 'linear');
    const sealed = (await store.upstreamClients.find('linear'))?.sealedClientSecret;
    if (sealed === undefined) throw new Error('no client secret');
    // Opens with the new key alone: the old key can be dropped from previousEncryptionKeys.
    expect(() => envelopeOf(NEW_KEY).open(sealed, 'upstream-client-secret\u0000linear')).not.toThrow();
  });
});

describe('discovery outside dev mode', () => {
  const SERVER = 'https://mcp.example.com/mcp';

  /** A scripted network: every URL asked for is recorded; the MCP server answers 401 naming `resourceMetadata`. */
  function network(resourceMetadata: string, authorizationServer: string) {
    const asked: string[] = [];
    const fetch = (url: string): Promise<Response> => {
      asked.push(url);
      if (url === SERVER) {
        return Promise.resolve(
          new Response('{}', { status: 401, headers: { 'www-authenticate': `Bearer resource_metadata="${resourceMetadata}"` } }),
        );
      }
      if (url === resourceMetadata || url.startsWith('https://mcp.example.com/.well-known/oauth-protected-resource')) {
        const body = JSON.stringify({ resource: SERVER, authorization_servers: [authorizationServer] });
        return Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));
      }
      return Promise.resolve(new Response('', { status: 404 }));
    };
    return { fetch, asked };
  }

  it('refuses a non-https resource_metadata URL from the 401 before fetching it', async () => {
    const { fetch, asked } = network('http://metadata.example.com/prm', 'https://as.example.com');
    await expect(discoverAuthorization(SERVER, 'Service', fetch, { httpsOnly: true })).rejects.toBeInstanceOf(CredentialRefused);
    expect(asked).not.toContain('http://metadata.example.com/prm');
  });

  it('refuses a non-https authorization server before fetching its metadata', async () => {
    const { fetch, asked } = network('https://mcp.example.com/.well-known/oauth-protected-resource/mcp', 'http://as.example.com');
    await expect(discoverAuthorization(SERVER, 'Service', fetch, { httpsOnly: true })).rejects.toThrow(/does not use https/);
    expect(asked.filter((url) => url.startsWith('http://as.example.com'))).toEqual([]);
  });
});
