import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { LocalBus } from '#bus';
import { deriveKeyId, Envelope, randomId, sha256Base64Url } from '#crypto';
import { createLogger } from '#observability';
import type { AuthStore, ClientRecord, GrantRecord, RefreshTokenRepository } from '../../persistence/auth-store.port.js';
import { openAuthStore, type AuthStoreOptions } from '../../persistence/open-auth-store.js';
import { ResourceIndicators } from '../../resources/resource-indicator.js';
import { RefreshTokenRotation } from '../../tokens/refresh-token-rotation.js';
import { Revocations } from '../../tokens/revocations.js';
import { SigningKeys } from '../../tokens/signing-keys.js';
import { TokenIssuer } from '../../tokens/token-issuer.js';
import { OAuthError } from '../oauth-error.js';
import { TokenGrants, type TokenGrantsDeps } from './token-grants.js';

const BASE = 'https://gh.example.com';
const GRACE_MS = 10_000;
const HOUR = 3_600_000;
const envelopeWith = (text: string) => {
  const key = Buffer.from(text.repeat(32).slice(0, 32));
  return new Envelope([{ id: deriveKeyId(key), key }]);
};
const envelope = envelopeWith('k');

/** The real PostgreSQL: unreachable means these tests fail, never skip. */
const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `gh_test_${randomBytes(6).toString('hex')}`;

const client = (clientId: string): ClientRecord => ({
  clientId,
  redirectUris: ['http://127.0.0.1/cb'],
  grantTypes: ['authorization_code', 'refresh_token'],
  tokenEndpointAuthMethod: 'none',
  createdAt: 0,
});
const owner = client('owner');
const stranger = client('stranger');

afterAll(async () => {
  const db = new pg.Client({ connectionString: postgresUrl });
  await db.connect();
  await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await db.end();
});

describe.each<{ name: string; options: AuthStoreOptions }>([
  { name: 'SQLite', options: { type: 'sqlite', path: ':memory:' } },
  { name: 'PostgreSQL', options: { type: 'postgres', url: postgresUrl, schema } },
])('refresh_token grant on $name', ({ options }) => {
  let store: AuthStore;
  let keys: SigningKeys;
  let now: number;
  const bus = new LocalBus();
  const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });

  beforeAll(async () => {
    store = await openAuthStore(options);
    keys = new SigningKeys(store.signingKeys, envelope, { tokenTtlMs: HOUR });
    await keys.load();
  });
  afterAll(async () => {
    await store.close();
    await bus.close();
  });
  beforeEach(() => {
    now = Date.UTC(2026, 0, 1);
  });

  function grants(
    reuseGraceMs = GRACE_MS,
    sealWith = envelope,
    repository: RefreshTokenRepository = store.refreshTokens,
    recheck?: TokenGrantsDeps['recheck'],
  ): TokenGrants {
    return new TokenGrants({
      ...(recheck && { recheck }),
      store,
      issuer: new TokenIssuer(keys, { issuer: BASE, tokenTtlMs: HOUR, now: () => now }),
      refreshTokens: new RefreshTokenRotation(repository, sealWith, { reuseGraceMs }),
      revocations: new Revocations(store, bus, { tokenTtlMs: HOUR, log }),
      resources: new ResourceIndicators(BASE, ['notion', 'linear']),
      log,
      now: () => now,
    });
  }

  /** A grant of `owner` with its first refresh token. */
  async function login(): Promise<{ grant: GrantRecord; refreshToken: string }> {
    const grant: GrantRecord = {
      id: randomId(),
      clientId: owner.clientId,
      subject: { sub: 'ada', email: 'ada@example.com', groups: [] },
      resources: [`${BASE}/notion`, `${BASE}/linear`],
      scope: 'mcp',
      createdAt: now,
      expiresAt: now + 24 * HOUR,
    };
    await store.grants.insert(grant);
    return { grant, refreshToken: await new RefreshTokenRotation(store.refreshTokens, envelope, { reuseGraceMs: 0 }).mint(grant) };
  }

  const form = (refreshToken: string, extra: Record<string, string> = {}) =>
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

  async function refusal(attempt: Promise<unknown>): Promise<string> {
    const outcome = await attempt.then(
      () => new Error('the refresh was accepted'),
      (err: unknown) => err,
    );
    if (outcome instanceof OAuthError) return `${outcome.code}: ${outcome.message}`;
    throw outcome;
  }

  const revoked = async (grant: GrantRecord) => (await store.grants.find(grant.id))?.revokedAt !== undefined;

  it('gives concurrent refreshes with one token the same successor, each a fresh access token, and keeps the grant', async () => {
    const { grant, refreshToken } = await login();
    const tokenGrants = grants();
    const responses = await Promise.all(Array.from({ length: 4 }, () => tokenGrants.refreshToken(owner, form(refreshToken))));
    const successor = responses[0]?.refresh_token ?? '';
    expect(successor).not.toBe(refreshToken);
    expect(responses.map((r) => r.refresh_token)).toEqual([successor, successor, successor, successor]);
    expect(new Set(responses.map((r) => r.access_token)).size).toBe(4);
    expect(await revoked(grant)).toBe(false);
    // The successor is the one live token of the family.
    const next = await tokenGrants.refreshToken(owner, form(successor));
    expect(next.refresh_token).not.toBe(successor);
    expect(await revoked(grant)).toBe(false);
  });

  it('asks the identity provider again once per rotation, and revokes the grant when it refuses the person', async () => {
    const { grant, refreshToken } = await login();
    const asked: string[] = [];
    let vouches = true;
    // A fake of our own IdpRecheck: what the identity provider would answer.
    const tokenGrants = grants(GRACE_MS, envelope, store.refreshTokens, {
      allows: (g) => (asked.push(g.id), Promise.resolve(vouches)),
    });
    const first = await tokenGrants.refreshToken(owner, form(refreshToken));
    // The repeat within the grace window gets the same successor without asking again.
    await tokenGrants.refreshToken(owner, form(refreshToken));
    expect(asked).toEqual([grant.id]);
    vouches = false;
    expect(await refusal(tokenGrants.refreshToken(owner, form(first.refresh_token ?? '')))).toBe(
      'invalid_grant: the identity provider no longer vouches for this person; sign in again',
    );
    expect(await revoked(grant)).toBe(true);
  });

  it('repeats the successor within the window, and revokes the grant for a reuse after it', async () => {
    const { grant, refreshToken } = await login();
    const tokenGrants = grants();
    const first = await tokenGrants.refreshToken(owner, form(refreshToken));
    now += GRACE_MS - 1;
    expect((await tokenGrants.refreshToken(owner, form(refreshToken))).refresh_token).toBe(first.refresh_token);
    now += 1;
    expect(await refusal(tokenGrants.refreshToken(owner, form(refreshToken)))).toBe(
      'invalid_grant: refresh token already used; its grant is revoked',
    );
    expect(await revoked(grant)).toBe(true);
    expect(await refusal(tokenGrants.refreshToken(owner, form(first.refresh_token ?? '')))).toBe('invalid_grant: grant revoked');
  });

  it('treats a repeat as reuse once the successor has itself been exchanged', async () => {
    const { grant, refreshToken } = await login();
    const tokenGrants = grants();
    const first = await tokenGrants.refreshToken(owner, form(refreshToken));
    await tokenGrants.refreshToken(owner, form(first.refresh_token ?? ''));
    expect(await refusal(tokenGrants.refreshToken(owner, form(refreshToken)))).toContain('its grant is revoked');
    expect(await revoked(grant)).toBe(true);
  });

  it('revokes on any reuse when the grace window is 0, keeping no successor', async () => {
    const { grant, refreshToken } = await login();
    const tokenGrants = grants(0);
    await tokenGrants.refreshToken(owner, form(refreshToken));
    expect((await store.refreshTokens.find(sha256Base64Url(refreshToken)))?.successor).toBeUndefined();
    expect(await refusal(tokenGrants.refreshToken(owner, form(refreshToken)))).toContain('its grant is revoked');
    expect(await revoked(grant)).toBe(true);
  });

  it('leaves a token to its owner when another client presents it, or when the request is refused before it is used', async () => {
    const { grant, refreshToken } = await login();
    const tokenGrants = grants();
    expect(await refusal(tokenGrants.refreshToken(stranger, form(refreshToken)))).toBe(
      'invalid_grant: refresh token was issued to another client',
    );
    expect(await refusal(tokenGrants.refreshToken(owner, form(refreshToken, { resource: `${BASE}/elsewhere` })))).toMatch(
      /^invalid_target/,
    );
    expect((await store.refreshTokens.find(sha256Base64Url(refreshToken)))?.usedAt).toBeUndefined();
    const narrowed = await tokenGrants.refreshToken(owner, form(refreshToken, { resource: `${BASE}/notion` }));
    expect(narrowed.refresh_token).toBeDefined();
    // Another client repeating a spent token within the window gets nothing either, and revokes nothing.
    expect(await refusal(tokenGrants.refreshToken(stranger, form(refreshToken)))).toBe(
      'invalid_grant: refresh token was issued to another client',
    );
    expect(await revoked(grant)).toBe(false);
  });

  it('keeps the successor sealed and bound to the spent token, and the purge drops it after the window', async () => {
    const { grant, refreshToken } = await login();
    const tokenGrants = grants();
    const first = await tokenGrants.refreshToken(owner, form(refreshToken));
    const successor = first.refresh_token ?? '';
    const spent = await store.refreshTokens.find(sha256Base64Url(refreshToken));
    expect(spent?.successor?.sealed).toMatch(/^v1\./);
    expect(spent?.successor?.sealed).not.toContain(successor);
    expect(spent?.successor?.until).toBe(now + GRACE_MS);
    expect(() => envelope.open(spent?.successor?.sealed ?? '', 'refresh-successor:another-token')).toThrow(/failed authentication/);

    await store.purgeExpired(now + GRACE_MS - 1);
    expect((await store.refreshTokens.find(sha256Base64Url(refreshToken)))?.successor).toBeDefined();
    await store.purgeExpired(now + GRACE_MS);
    expect(await store.refreshTokens.find(sha256Base64Url(refreshToken))).toMatchObject({ usedAt: now });
    expect((await store.refreshTokens.find(sha256Base64Url(refreshToken)))?.successor).toBeUndefined();
    // Purged early (clocks differ between replicas), a repeat is reuse.
    expect(await refusal(tokenGrants.refreshToken(owner, form(refreshToken)))).toContain('its grant is revoked');
    expect(await revoked(grant)).toBe(true);
  });

  it('treats a repeat whose successor will not open (another encryption key) as reuse', async () => {
    const { grant, refreshToken } = await login();
    await grants().refreshToken(owner, form(refreshToken));
    expect(await refusal(grants(GRACE_MS, envelopeWith('other')).refreshToken(owner, form(refreshToken)))).toContain(
      'its grant is revoked',
    );
    expect(await revoked(grant)).toBe(true);
  });

  it('answers a token that disappears while it is exchanged (purged by another replica) as unknown, revoking nothing', async () => {
    const { grant, refreshToken } = await login();
    const vanishing: RefreshTokenRepository = {
      insert: (token) => store.refreshTokens.insert(token),
      find: (tokenHash) => store.refreshTokens.find(tokenHash),
      rotate: () => Promise.resolve(undefined),
    };
    expect(await refusal(grants(GRACE_MS, envelope, vanishing).refreshToken(owner, form(refreshToken)))).toBe(
      'invalid_grant: unknown refresh token',
    );
    expect(await revoked(grant)).toBe(false);
  });

  it('refuses unknown and expired tokens without revoking anything', async () => {
    const { grant, refreshToken } = await login();
    const tokenGrants = grants();
    expect(await refusal(tokenGrants.refreshToken(owner, form('no-such-token')))).toBe('invalid_grant: unknown refresh token');
    now = grant.expiresAt;
    expect(await refusal(tokenGrants.refreshToken(owner, form(refreshToken)))).toBe('invalid_grant: refresh token expired');
    expect(await revoked(grant)).toBe(false);
  });
});
