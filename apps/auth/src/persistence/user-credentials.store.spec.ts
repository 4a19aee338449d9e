import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { AuthStore, UpstreamAuthorizationRecord, UserCredentialRecord } from './auth-store.port.js';
import { openAuthStore, type AuthStoreOptions } from './open-auth-store.js';

/** The real PostgreSQL: unreachable means these tests fail, never skip. */
const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `gh_test_uc_${randomBytes(6).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'gh-user-credentials-'));

const NOW = 1_796_774_400_000;
const MINUTE = 60_000;
const id = (prefix: string): string => `${prefix}-${randomBytes(8).toString('base64url')}`;

const credential = (over: Partial<UserCredentialRecord> = {}): UserCredentialRecord => ({
  sub: id('sub'),
  email: 'ada@example.com',
  server: 'linear',
  type: 'oauth',
  sealedSecret: 'v1.k.sealed',
  createdAt: NOW,
  updatedAt: NOW,
  expiresAt: NOW + MINUTE,
  ...over,
});

const backends: { name: string; options: AuthStoreOptions }[] = [
  { name: 'SQLite (file)', options: { type: 'sqlite', path: join(dataDir, 'auth.sqlite') } },
  { name: 'PostgreSQL', options: { type: 'postgres', url: postgresUrl, schema } },
];

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

describe.each(backends)('per-user credential records on $name', ({ options }) => {
  let store: AuthStore;

  beforeAll(async () => {
    store = await openAuthStore(options);
  });

  afterAll(async () => {
    await store?.close();
  });

  describe('user credentials', () => {
    it('saves one, replaces it keeping createdAt, lists it by person and by email, and deletes it once', async () => {
      const first = credential({ type: 'manual', expiresAt: undefined, email: undefined });
      const stored = { sub: first.sub, server: 'linear', type: 'manual', sealedSecret: first.sealedSecret, createdAt: NOW, updatedAt: NOW };
      await store.userCredentials.save(first);
      expect(await store.userCredentials.find(first.sub, 'linear')).toEqual(stored);

      const replaced = credential({ sub: first.sub, sealedSecret: 'v1.k.other', createdAt: NOW + 5, updatedAt: NOW + 5 });
      await store.userCredentials.save(replaced);
      expect(await store.userCredentials.find(first.sub, 'linear')).toEqual({ ...replaced, createdAt: NOW });

      const other = credential({ sub: first.sub, server: 'notion', type: 'manual', expiresAt: undefined });
      await store.userCredentials.save(other);
      expect((await store.userCredentials.listBySub(first.sub)).map((c) => c.server)).toEqual(['linear', 'notion']);
      const email = `${id('person')}@example.com`;
      await store.userCredentials.save({ ...other, email });
      expect(await store.userCredentials.listByEmail(email)).toEqual([{ ...other, email }]);
      expect(await store.userCredentials.find(first.sub, 'unknown')).toBeUndefined();

      expect(await store.userCredentials.delete(first.sub, 'linear')).toBe(true);
      expect(await store.userCredentials.delete(first.sub, 'linear')).toBe(false);
      expect(await store.userCredentials.find(first.sub, 'linear')).toBeUndefined();
    });

    it('keeps both of two concurrent first saves as one row', async () => {
      const record = credential();
      await Promise.all([store.userCredentials.save(record), store.userCredentials.save({ ...record, sealedSecret: 'v1.k.b' })]);
      expect(await store.userCredentials.listBySub(record.sub)).toHaveLength(1);
    });

    it('re-seals only while the secret is still the one read', async () => {
      const record = credential();
      await store.userCredentials.save(record);
      expect(await store.userCredentials.reseal(record.sub, record.server, 'v1.k.not-this', 'v1.k.lost')).toBe(false);
      expect((await store.userCredentials.find(record.sub, record.server))?.sealedSecret).toBe(record.sealedSecret);
      expect(await store.userCredentials.reseal(record.sub, record.server, record.sealedSecret, 'v1.k.resealed')).toBe(true);
      expect((await store.userCredentials.find(record.sub, record.server))?.sealedSecret).toBe('v1.k.resealed');
    });

    it('replaces the secret of a refresh only while it is still the one read, and never inserts', async () => {
      const record = credential();
      const next = { sealedSecret: 'v1.k.refreshed', updatedAt: NOW + 1, expiresAt: NOW + 2 * MINUTE };
      expect(await store.userCredentials.replaceSecret(record.sub, record.server, record.sealedSecret, next)).toBe(false);
      expect(await store.userCredentials.find(record.sub, record.server)).toBeUndefined();
      await store.userCredentials.save(record);
      expect(await store.userCredentials.replaceSecret(record.sub, record.server, 'v1.k.not-this', next)).toBe(false);
      expect(await store.userCredentials.replaceSecret(record.sub, record.server, record.sealedSecret, next)).toBe(true);
      expect(await store.userCredentials.find(record.sub, record.server)).toEqual({ ...record, ...next });
    });

    it('gives the refresh lock to exactly one of several concurrent callers, again once released or expired', async () => {
      const record = credential();
      await store.userCredentials.save(record);
      const { sub, server } = record;
      const taken = await Promise.all(Array.from({ length: 6 }, () => store.userCredentials.lock(sub, server, NOW, NOW + 10_000)));
      expect(taken.filter(Boolean)).toHaveLength(1);
      expect(await store.userCredentials.lock(sub, server, NOW + 9_999, NOW + 20_000)).toBe(false);
      // A crashed holder's lock runs out.
      expect(await store.userCredentials.lock(sub, server, NOW + 10_000, NOW + 20_000)).toBe(true);
      // The first holder, late, must not release the lock the second now holds.
      await store.userCredentials.unlock(sub, server, NOW + 10_000);
      expect(await store.userCredentials.lock(sub, server, NOW + 10_001, NOW + 30_000)).toBe(false);
      await store.userCredentials.unlock(sub, server, NOW + 20_000);
      expect(await store.userCredentials.lock(sub, server, NOW + 10_001, NOW + 30_000)).toBe(true);
      expect(await store.userCredentials.lock(sub, 'unknown', NOW, NOW + 1)).toBe(false);
    });
  });

  describe('upstream authorizations', () => {
    const pending = (over: Partial<UpstreamAuthorizationRecord> = {}): UpstreamAuthorizationRecord => ({
      stateHash: id('state'),
      sessionId: id('session'),
      sub: id('sub'),
      email: 'ada@example.com',
      server: 'linear',
      sealedVerifier: 'v1.k.verifier',
      createdAt: NOW,
      expiresAt: NOW + 10 * MINUTE,
      ...over,
    });

    it('finds one without using it up, not once expired', async () => {
      const record = pending();
      await store.upstreamAuthorizations.insert(record);
      expect(await store.upstreamAuthorizations.find(record.stateHash, NOW)).toEqual(record);
      expect(await store.upstreamAuthorizations.find(record.stateHash, record.expiresAt)).toBeUndefined();
      expect(await store.upstreamAuthorizations.take(record.stateHash, NOW)).toEqual(record);
      expect(await store.upstreamAuthorizations.find(record.stateHash, NOW)).toBeUndefined();
    });

    it('takes one exactly once, not once expired, and purges expired ones', async () => {
      const record = pending();
      await store.upstreamAuthorizations.insert(record);
      const taken = await Promise.all(Array.from({ length: 4 }, () => store.upstreamAuthorizations.take(record.stateHash, NOW)));
      expect(taken.filter((t) => t !== undefined)).toEqual([record]);

      const expired = pending({ expiresAt: NOW });
      await store.upstreamAuthorizations.insert(expired);
      expect(await store.upstreamAuthorizations.take(expired.stateHash, NOW)).toBeUndefined();

      const [old, live] = [pending({ expiresAt: NOW }), pending({ expiresAt: NOW + 1, email: undefined })];
      await store.upstreamAuthorizations.insert(old);
      await store.upstreamAuthorizations.insert(live);
      await store.purgeExpired(NOW);
      expect(await store.upstreamAuthorizations.take(old.stateHash, 0)).toBeUndefined();
      const liveTaken = await store.upstreamAuthorizations.take(live.stateHash, 0);
      expect(liveTaken).toEqual({ ...live, email: undefined });
      expect(liveTaken && 'email' in liveTaken).toBe(false);
    });
  });

  describe('upstream clients', () => {
    it('saves, replaces and deletes the registration of a server', async () => {
      const server = id('server');
      const client = {
        server,
        resource: 'https://mcp.example.com/mcp',
        issuer: 'https://as.example.com',
        clientId: 'client-1',
        metadata: { token_endpoint: 'https://as.example.com/token', scopes_supported: ['read', 'write'] },
        createdAt: NOW,
      };
      await store.upstreamClients.save(client);
      expect(await store.upstreamClients.find(server)).toEqual(client);
      const replaced = { ...client, clientId: 'client-2', sealedClientSecret: 'v1.k.secret', createdAt: NOW + 1 };
      await store.upstreamClients.save(replaced);
      expect(await store.upstreamClients.find(server)).toEqual(replaced);
      await store.upstreamClients.delete(server);
      expect(await store.upstreamClients.find(server)).toBeUndefined();
    });
  });
});
