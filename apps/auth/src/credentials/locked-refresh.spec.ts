import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { userCredentialAad } from '#contracts';
import { envelopeOf } from '#crypto';
import { createLogger } from '#observability';
import { ScriptedBrowser, startStandInIdp, stdioServerConfig, type StandInIdp } from '#testing';
import type { AuthStore } from '../persistence/auth-store.port.js';
import { openAuthStore } from '../persistence/open-auth-store.js';
import { DEFAULT_LOCKED_REFRESH, LockedRefresh } from './locked-refresh.js';
import { SealedSecrets, type StoredSecret } from './sealed-secret.js';
import { createUserCredentialService } from './user-credentials.factory.js';

/** The real PostgreSQL: unreachable means these tests fail, never skip. */
const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `gh_test_lock_${randomBytes(6).toString('hex')}`;
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const ISSUER = 'https://gh.example.com';
const REDIRECT = `${ISSUER}/oauth/callback/linear`;
const KEY = 'k'.repeat(32);

describe('refresh across auth replicas on PostgreSQL', () => {
  let upstream: StandInIdp;
  const stores: AuthStore[] = [];

  beforeAll(async () => {
    upstream = await startStandInIdp({
      users: { ada: { sub: 'ada-at-linear', email: 'ada@linear.test', email_verified: true } },
      clients: [
        {
          client_id: 'gatehouse',
          client_secret: 's3cret',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
        },
      ],
      upstream: { refreshTokens: true, rotateRefreshTokens: true, accessTokenTtlSeconds: 20 },
    });
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await upstream?.close();
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });

  it('lets exactly one of four replicas refresh an expiring token; every one hands out the new token', async () => {
    const linear = stdioServerConfig('linear', {
      userAuthentication: {
        type: 'oauth',
        displayName: 'Linear',
        clientId: 'gatehouse',
        clientSecret: 's3cret',
        authorizationUrl: upstream.authorizationUrl,
        tokenUrl: upstream.tokenUrl,
        scopes: ['openid'],
        tokenFormat: '{{token}}',
      },
    });
    // Each replica has its own database connection, as separate auth processes would.
    for (let i = 0; i < 4; i++) stores.push(await openAuthStore({ type: 'postgres', url: postgresUrl, schema }));
    const replicas = stores.map((store) =>
      createUserCredentialService({
        store,
        envelope: envelopeOf(KEY),
        servers: { linear },
        issuer: ISSUER,
        gatewayName: 'GH',
        devMode: true,
        log,
      }),
    );
    const [first] = replicas;
    if (first === undefined) throw new Error('no replica');
    const ada = { id: 'browser-1', sub: 'person-ada', authenticatedAt: Date.now() };
    const callback = await new ScriptedBrowser().follow(await first.beginConnect(ada, 'linear'), REDIRECT);
    await first.completeConnect(ada, 'linear', callback);

    const before = upstream.grantCount('refresh_token');
    const replies = await Promise.all(replicas.map((replica) => replica.credentialFor(ada.sub, 'linear')));
    expect(upstream.grantCount('refresh_token')).toBe(before + 1);
    const tokens = replies.map((reply) =>
      reply.status === 'ok' ? envelopeOf(KEY).open(reply.sealed, userCredentialAad(ada.sub, 'linear')) : reply.status,
    );
    expect(new Set(tokens).size).toBe(1);
    // The lock was released: the next expiring read refreshes again, with the rotated refresh token.
    expect((await replicas[1]?.credentialFor(ada.sub, 'linear'))?.status).toBe('ok');
    expect(upstream.grantCount('refresh_token')).toBe(before + 2);
  });

  it('does not bring back a credential deleted while its refresh was in flight, and discards the tokens it was issued', async () => {
    const store = await openAuthStore({ type: 'postgres', url: postgresUrl, schema });
    stores.push(store);
    const secrets = new SealedSecrets(envelopeOf(KEY), store.userCredentials);
    const refresher = new LockedRefresh(store.userCredentials, secrets, { ...DEFAULT_LOCKED_REFRESH, now: Date.now });
    const sub = 'person-removed-mid-refresh';
    const old: StoredSecret = { token: 'old-access', refreshToken: 'old-refresh' };
    const record = {
      sub,
      server: 'linear',
      type: 'oauth' as const,
      sealedSecret: secrets.seal(sub, 'linear', old),
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    await store.userCredentials.save(record);
    const discarded: StoredSecret[] = [];
    const fresh = await refresher.refresh(
      { record, secret: old },
      async () => {
        // The person disconnects while the service is answering the refresh.
        await store.userCredentials.delete(sub, 'linear');
        return { secret: { token: 'new-access', refreshToken: 'new-refresh' } };
      },
      (secret) => {
        discarded.push(secret);
        return Promise.resolve();
      },
    );
    expect(fresh).toBeUndefined();
    expect(await store.userCredentials.find(sub, 'linear')).toBeUndefined();
    expect(discarded).toEqual([{ token: 'new-access', refreshToken: 'new-refresh' }]);
  });
});
