import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { OAuthUserAuthentication, ServerConfig } from '#config';
import { userCredentialAad, type UserCredentialReply } from '#contracts';
import { deriveKeyId, envelopeOf, sha256Base64Url } from '#crypto';
import { createLogger } from '#observability';
import { ScriptedBrowser, startStandInIdp, stdioServerConfig, type StandInIdp } from '#testing';
import type { BrowserSession } from '../browser/browser-session.port.js';
import type { AuthStore } from '../persistence/auth-store.port.js';
import { openAuthStore } from '../persistence/open-auth-store.js';
import { SealedSecrets } from './sealed-secret.js';
import { createUserCredentialService } from './user-credentials.factory.js';
import type { UserCredentialService } from './user-credential.service.js';
import { CredentialRefused } from './user-credentials.port.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const ISSUER = 'https://gh.example.com';
const KEY_A = 'a'.repeat(32);
const KEY_B = 'b'.repeat(32);
const dataDir = mkdtempSync(join(tmpdir(), 'gh-user-credential-service-'));

const stdio = (name: string, userAuthentication: ServerConfig['userAuthentication']) => stdioServerConfig(name, { userAuthentication });

const session = (over: Partial<BrowserSession> = {}): BrowserSession => ({
  id: randomBytes(8).toString('hex'),
  sub: `person-${randomBytes(4).toString('hex')}`,
  email: 'ada@example.com',
  authenticatedAt: Date.now(),
  ...over,
});

/** Opens an `ok` reply as a runner would. */
function opened(reply: UserCredentialReply, sub: string, server: string, key = KEY_A): string {
  if (reply.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(reply)}`);
  const token = envelopeOf(key).open(reply.sealed, userCredentialAad(sub, server));
  handedOut.add(token.replace(/^Bearer /, ''));
  return token;
}

/** Every token a test was handed: none may appear in a log line. */
const handedOut = new Set<string>();

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Greps the bytes of a store's SQLite files (database, WAL, shared memory). */
function databaseFilesContain(dir: string, text: string): boolean {
  const files = readdirSync(join(dataDir, dir)).map((f) => readFileSync(join(dataDir, dir, f)));
  if (files.length === 0) throw new Error('no database files');
  return files.some((bytes) => bytes.includes(Buffer.from(text)));
}

describe('UserCredentialService: manual tokens', () => {
  const notion = stdio('notion', {
    type: 'manual',
    displayName: 'Notion',
    instructions: 'Create an integration token.',
    helpUrl: 'https://www.notion.so/my-integrations',
    validation: /^secret_[A-Za-z0-9]+$/,
    tokenFormat: 'Bearer {{token}}',
  });
  const path = join(dataDir, 'manual', 'auth.sqlite');
  let store: AuthStore;
  let service: UserCredentialService;
  const make = (store: AuthStore, key: string, previous: string[] = []) =>
    createUserCredentialService({
      store,
      envelope: envelopeOf(key, previous),
      servers: { notion },
      issuer: ISSUER,
      gatewayName: 'GH',
      devMode: true,
      log,
    });

  beforeAll(async () => {
    store = await openAuthStore({ type: 'sqlite', path });
    service = make(store, KEY_A);
  });
  afterAll(async () => store?.close());

  it('says where to add a missing token, stores a valid one, hands it out formatted and sealed for that person, and deletes it', async () => {
    const ada = session();
    expect(await service.credentialFor(ada.sub, 'notion')).toEqual({
      status: 'missing',
      connectUrl: `${ISSUER}/my/tokens`,
      message: expect.stringContaining('Notion') as string,
    });
    expect(await service.list(ada)).toEqual([
      expect.objectContaining({
        server: 'notion',
        displayName: 'Notion',
        type: 'manual',
        connected: false,
        helpUrl: notion.userAuthentication?.type === 'manual' ? notion.userAuthentication.helpUrl : '',
      }),
    ]);
    await service.setManual(ada, 'notion', '  secret_abc123\n');
    const reply = await service.credentialFor(ada.sub, 'notion');
    expect(opened(reply, ada.sub, 'notion')).toBe('Bearer secret_abc123');
    // Bound to the person and server: it opens for no one else.
    expect(() => envelopeOf(KEY_A).open(reply.status === 'ok' ? reply.sealed : '', userCredentialAad('someone-else', 'notion'))).toThrow();
    expect(await service.list(ada)).toEqual([expect.objectContaining({ connected: true, updatedAt: expect.any(Number) as number })]);
    expect((await service.credentialFor(session().sub, 'notion')).status).toBe('missing');

    // The upstream refused it: the person is sent to replace it; it is kept until they do.
    expect(await service.credentialFor(ada.sub, 'notion', sha256Base64Url('Bearer secret_abc123'))).toEqual({
      status: 'missing',
      connectUrl: `${ISSUER}/my/tokens`,
      message: `Notion refused your token: replace it at ${ISSUER}/my/tokens`,
    });
    expect((await service.credentialFor(ada.sub, 'notion', sha256Base64Url('Bearer an older token'))).status).toBe('ok');

    await service.remove(ada, 'notion');
    expect((await service.credentialFor(ada.sub, 'notion')).status).toBe('missing');
  });

  it.each([
    ['empty', '', /Enter your Notion token/],
    ['blank', '   ', /Enter your Notion token/],
    ['failing validation', 'not-a-notion-token', /does not look like a Notion token/],
    ['over 8 KiB', `secret_${'a'.repeat(9000)}`, /too long/],
    ['with a NUL', 'secret_abc\u0000def', /control characters/],
    ['with an escape sequence', 'secret_abc\u001b[31m', /control characters/],
  ])('refuses a token %s with a message for the page and stores nothing', async (_label, token, message) => {
    const ada = session();
    await expect(service.setManual(ada, 'notion', token)).rejects.toThrow(message);
    await expect(service.setManual(ada, 'notion', token)).rejects.toBeInstanceOf(CredentialRefused);
    expect((await service.credentialFor(ada.sub, 'notion')).status).toBe('missing');
  });

  it('refuses an unknown server and an oauth flow for a manual one', async () => {
    await expect(service.setManual(session(), 'nope', 'secret_x')).rejects.toBeInstanceOf(CredentialRefused);
    await expect(service.beginConnect(session(), 'notion')).rejects.toThrow(/pasted token/);
    expect(await service.credentialFor('x', 'nope')).toMatchObject({ status: 'unavailable' });
  });

  it('keeps no token in clear text in the database file', async () => {
    const token = `secret_${randomBytes(16).toString('hex')}`;
    await service.setManual(session(), 'notion', token);
    expect(databaseFilesContain('manual', token.slice(7))).toBe(false);
    expect(databaseFilesContain('manual', 'secret_rotated1')).toBe(false);
  });

  it('reads credentials sealed under a key the gateway has rotated away from, and re-seals them under the new key when used', async () => {
    const ada = session();
    await service.setManual(ada, 'notion', 'secret_rotated1');
    const idOf = (key: string) => deriveKeyId(Buffer.from(key, 'utf8'));
    expect((await store.userCredentials.find(ada.sub, 'notion'))?.sealedSecret.split('.')[1]).toBe(idOf(KEY_A));

    const rotated = make(store, KEY_B, [KEY_A]);
    expect(await rotated.list(ada)).toEqual([expect.objectContaining({ connected: true })]);
    expect(opened(await rotated.credentialFor(ada.sub, 'notion'), ada.sub, 'notion', KEY_B)).toBe('Bearer secret_rotated1');
    expect((await store.userCredentials.find(ada.sub, 'notion'))?.sealedSecret.split('.')[1]).toBe(idOf(KEY_B));
    // Without the old key it cannot be opened: a transient answer, nothing deleted.
    expect(await make(store, KEY_A).credentialFor(ada.sub, 'notion')).toMatchObject({ status: 'unavailable' });
    expect(await store.userCredentials.find(ada.sub, 'notion')).toBeDefined();
  });
});

describe('UserCredentialService: oauth with configured endpoints', () => {
  const REDIRECT = `${ISSUER}/oauth/callback/linear`;
  const logged: string[] = [];
  const seen = new Set<string>(['upstream-secret']);
  const capture = new PassThrough();
  capture.on('data', (line: Buffer) => logged.push(line.toString()));
  const oauthLog = createLogger({ service: 'test', level: 'trace', destination: capture });
  let upstream: StandInIdp;
  let store: AuthStore;
  let service: UserCredentialService;
  const people = { ada: { sub: 'ada-at-linear', email: 'ada@linear.test', email_verified: true } };

  beforeAll(async () => {
    upstream = await startStandInIdp({
      users: people,
      clients: [
        {
          client_id: 'gatehouse',
          client_secret: 'upstream-secret',
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: ['authorization_code', 'refresh_token'],
        },
      ],
      upstream: { refreshTokens: true, rotateRefreshTokens: true, accessTokenTtlSeconds: 30, revocation: true },
    });
    store = await openAuthStore({ type: 'sqlite', path: join(dataDir, 'oauth', 'auth.sqlite') });
    const linear = stdio('linear', linearAuth());
    service = createUserCredentialService({
      store,
      envelope: envelopeOf(KEY_A),
      servers: { linear },
      issuer: ISSUER,
      gatewayName: 'GH',
      devMode: true,
      log: oauthLog,
    });
  });
  afterAll(async () => {
    await store?.close();
    await upstream?.close();
  });

  function linearAuth(): OAuthUserAuthentication {
    return {
      type: 'oauth',
      displayName: 'Linear',
      clientId: 'gatehouse',
      clientSecret: 'upstream-secret',
      authorizationUrl: upstream.authorizationUrl,
      tokenUrl: upstream.tokenUrl,
      scopes: ['openid'],
      tokenFormat: 'Bearer {{token}}',
    };
  }

  /** The person's browser: from Gatehouse's connect redirect through the service's login back to the callback. */
  async function connect(person: BrowserSession): Promise<URL> {
    const start = await service.beginConnect(person, 'linear');
    return new ScriptedBrowser().follow(start, REDIRECT);
  }

  it('connects with PKCE S256 and a state bound to the browser session, then hands out the access token', async () => {
    const ada = session();
    expect(await service.credentialFor(ada.sub, 'linear')).toEqual({
      status: 'missing',
      connectUrl: `${ISSUER}/oauth/connect?service=linear`,
      message: expect.stringContaining('Linear') as string,
    });
    const start = await service.beginConnect(ada, 'linear');
    expect(start.origin).toBe(upstream.issuer);
    expect(start.searchParams.get('code_challenge_method')).toBe('S256');
    expect(start.searchParams.get('redirect_uri')).toBe(REDIRECT);
    expect(start.searchParams.get('scope')).toBe('openid');
    const callback = await new ScriptedBrowser().follow(start, REDIRECT);
    expect(await service.completeConnect(ada, 'linear', callback)).toBe('linear');

    const reply = await service.credentialFor(ada.sub, 'linear');
    expect(opened(reply, ada.sub, 'linear')).toMatch(/^Bearer \S{20,}$/);
    expect(reply).toMatchObject({ expiresAt: expect.any(Number) as number });
    expect(await service.list(ada)).toEqual([expect.objectContaining({ server: 'linear', type: 'oauth', connected: true })]);
    // One use: the same callback again is refused.
    await expect(service.completeConnect(ada, 'linear', callback)).rejects.toThrow(/expired or was started elsewhere/);
  });

  it('refuses a callback in another browser session, or with a state it never issued', async () => {
    const ada = session();
    const callback = await connect(ada);
    await expect(service.completeConnect(session({ sub: ada.sub }), 'linear', callback)).rejects.toBeInstanceOf(CredentialRefused);
    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged');
    await expect(service.completeConnect(ada, 'linear', forged)).rejects.toThrow(/expired or was started elsewhere/);
    expect((await service.credentialFor(ada.sub, 'linear')).status).toBe('missing');
  });

  it("does not let another session's callback with someone's state use up their connection attempt", async () => {
    const ada = session();
    const callback = await connect(ada);
    await expect(service.completeConnect(session(), 'linear', callback)).rejects.toThrow(/expired or was started elsewhere/);
    await expect(service.completeConnect(ada, 'linear', callback)).resolves.toBe('linear');
    expect((await service.credentialFor(ada.sub, 'linear')).status).toBe('ok');
  });

  it('refreshes an expiring token sealed under a key rotated away from, not taking its re-seal for another refresh', async () => {
    const ada = session();
    await service.completeConnect(ada, 'linear', await connect(ada));
    const rotated = createUserCredentialService({
      store,
      envelope: envelopeOf(KEY_B, [KEY_A]),
      servers: { linear: stdio('linear', linearAuth()) },
      issuer: ISSUER,
      gatewayName: 'GH',
      devMode: true,
      log,
    });
    const before = upstream.grantCount('refresh_token');
    const reply = await rotated.credentialFor(ada.sub, 'linear');
    expect(reply.status).toBe('ok');
    expect(upstream.grantCount('refresh_token')).toBe(before + 1);
  });

  it('refreshes an expiring token once for two concurrent requests, both getting the new token', async () => {
    const ada = session();
    await service.completeConnect(ada, 'linear', await connect(ada));
    const before = upstream.grantCount('refresh_token');
    // The service issues 30 s tokens, within the 60 s refresh margin: every request finds it expiring.
    const [first, second] = await Promise.all([service.credentialFor(ada.sub, 'linear'), service.credentialFor(ada.sub, 'linear')]);
    expect(upstream.grantCount('refresh_token')).toBe(before + 1);
    expect(opened(first, ada.sub, 'linear')).toBe(opened(second, ada.sub, 'linear'));
  });

  it('refreshes the token the upstream rejected, storing each rotated refresh token, and revokes at the service on remove', async () => {
    const ada = session();
    await service.completeConnect(ada, 'linear', await connect(ada));
    const token = opened(await service.credentialFor(ada.sub, 'linear'), ada.sub, 'linear');
    // The service rotates refresh tokens: this second refresh works only if the first one's new refresh token was stored.
    const refreshed = opened(await service.credentialFor(ada.sub, 'linear', sha256Base64Url(token)), ada.sub, 'linear');
    expect(refreshed).not.toBe(token);
    const userinfo = () => fetch(upstream.userInfoUrl, { headers: { authorization: refreshed } }).then((r) => r.status);
    expect(await userinfo()).toBe(200);
    expect(databaseFilesContain('oauth', refreshed.slice('Bearer '.length))).toBe(false);
    expect(databaseFilesContain('oauth', 'upstream-secret')).toBe(false);

    await service.remove(ada, 'linear');
    expect((await service.credentialFor(ada.sub, 'linear')).status).toBe('missing');
    expect(await userinfo()).toBe(401);
  });

  it('deletes the credential when the service answers the refresh with invalid_grant', async () => {
    const ada = session();
    await service.completeConnect(ada, 'linear', await connect(ada));
    const record = await store.userCredentials.find(ada.sub, 'linear');
    // The person revokes Gatehouse's access at the service itself.
    const secret = record && (await new SealedSecrets(envelopeOf(KEY_A), store.userCredentials).open(record));
    const revoked = await fetch(`${upstream.issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('gatehouse:upstream-secret').toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: secret?.refreshToken ?? '', token_type_hint: 'refresh_token' }),
    });
    expect(revoked.status).toBe(200);
    expect(await service.credentialFor(ada.sub, 'linear')).toMatchObject({ status: 'missing' });
    expect(await store.userCredentials.find(ada.sub, 'linear')).toBeUndefined();
  });

  it('answers unavailable, keeping the credential, when the service cannot be reached for a refresh', async () => {
    const ada = session();
    await service.completeConnect(ada, 'linear', await connect(ada));
    const unreachable = createUserCredentialService({
      store,
      envelope: envelopeOf(KEY_A),
      servers: { linear: stdio('linear', { ...linearAuth(), tokenUrl: 'http://127.0.0.1:9/token' }) },
      issuer: ISSUER,
      gatewayName: 'GH',
      devMode: true,
      log,
      limits: { timeoutMs: 2000, maxBytes: 65536 },
    });
    expect(await unreachable.credentialFor(ada.sub, 'linear')).toMatchObject({ status: 'unavailable' });
    expect(await store.userCredentials.find(ada.sub, 'linear')).toBeDefined();
  });

  it('logged what happened, and never a token, refresh token or client secret', async () => {
    const ada = session();
    await service.completeConnect(ada, 'linear', await connect(ada));
    const record = await store.userCredentials.find(ada.sub, 'linear');
    const secret = record && (await new SealedSecrets(envelopeOf(KEY_A), store.userCredentials).open(record));
    for (const value of [secret?.token, secret?.refreshToken, ...handedOut, ...seen]) if (value) seen.add(value);
    await service.remove(ada, 'linear');
    const text = logged.join('');
    expect(text).toContain('user credential connected (oauth)');
    expect(text).toContain('user credential removed');
    expect(seen.size).toBeGreaterThan(4);
    for (const value of seen) expect(text).not.toContain(value);
  });
});
