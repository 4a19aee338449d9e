import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createLogger } from '#observability';
import { AuditLog } from '../audit/audit-log.js';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { AuditRecord } from '#contracts';
import type {
  AuthorizationCodeRecord,
  AuthStore,
  GrantRecord,
  PendingAuthorizationRecord,
  RefreshTokenRecord,
  Subject,
} from './auth-store.port.js';
import { Initial1795706400000 } from './migrations/1795706400000-initial.js';
import { RefreshTokenSuccessor1796169600000 } from './migrations/1796169600000-refresh-token-successor.js';
import { UserCredentials1796774400000 } from './migrations/1796774400000-user-credentials.js';
import { RememberedConsent1797100000000 } from './migrations/1797100000000-remembered-consent.js';
import { AuditEvents1797200000000 } from './migrations/1797200000000-audit-events.js';
import { openAuthStore, type AuthStoreOptions } from './open-auth-store.js';

/** The real PostgreSQL: unreachable means these tests fail, never skip. */
const postgresUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schema = `gh_test_${randomBytes(6).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'gh-auth-store-'));
// A directory that does not exist yet: openAuthStore must create it.
const sqlitePath = join(dataDir, 'nested', 'data', 'auth.sqlite');

const NOW = 1_795_706_400_000;
const MINUTE = 60_000;
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
/** Files in migrations/. */
const MIGRATIONS = 5;
/** The latest instant a JS Date can hold: far beyond 32 bits, still a safe integer. */
const MAX_DATE = 8_640_000_000_000_000;

const id = (prefix: string): string => `${prefix}-${randomBytes(8).toString('base64url')}`;

const subject: Subject = { sub: 'google|1234', email: 'ada@example.com', groups: ['eng', 'ops "quoted"', 'ünïcode ✓'] };

const pending = (over: Partial<PendingAuthorizationRecord> = {}): PendingAuthorizationRecord => ({
  id: id('pending'),
  clientId: 'client-1',
  redirectUri: 'http://127.0.0.1:33418/callback?x=1&y=2',
  state: 'client-state',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  resources: ['https://gh.example.com/notion', 'https://gh.example.com/linear'],
  scope: 'mcp',
  csrfHash: 'csrf-hash',
  createdAt: NOW,
  expiresAt: NOW + 10 * MINUTE,
  ...over,
});

const code = (over: Partial<AuthorizationCodeRecord> = {}): AuthorizationCodeRecord => ({
  codeHash: id('code'),
  clientId: 'client-1',
  redirectUri: 'http://127.0.0.1:33418/callback',
  codeChallenge: 'challenge',
  resources: ['https://gh.example.com/notion'],
  scope: 'mcp',
  subject,
  grantId: id('grant'),
  expiresAt: NOW + MINUTE,
  ...over,
});

const grant = (over: Partial<GrantRecord> = {}): GrantRecord => ({
  id: id('grant'),
  clientId: 'client-1',
  subject,
  resources: [],
  scope: 'mcp offline_access',
  createdAt: NOW,
  expiresAt: NOW + 30 * 24 * 60 * MINUTE,
  ...over,
});

interface Backend {
  name: string;
  options: AuthStoreOptions;
  /** Rows in TypeORM's migrations table, read beside the store. */
  migrationsRun(): Promise<number>;
}

async function onPostgres<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const backends: Backend[] = [
  {
    name: 'SQLite (file)',
    options: { type: 'sqlite', path: sqlitePath },
    migrationsRun: () => {
      const db = new Database(sqlitePath, { readonly: true });
      try {
        const row: unknown = db.prepare('SELECT COUNT(*) AS n FROM migrations').get();
        return Promise.resolve(row !== null && typeof row === 'object' && 'n' in row ? Number(row.n) : -1);
      } finally {
        db.close();
      }
    },
  },
  {
    name: 'PostgreSQL',
    options: { type: 'postgres', url: postgresUrl, schema },
    migrationsRun: () =>
      onPostgres(async (client) => {
        const result = await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM "${schema}".migrations`);
        return result.rows[0].n;
      }),
  },
];

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await onPostgres((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
});

describe.each(backends)('AuthStore on $name', (backend) => {
  let store: AuthStore;

  beforeAll(async () => {
    store = await openAuthStore(backend.options);
  });

  afterAll(async () => {
    await store?.close();
  });

  describe('clients', () => {
    it('stores confidential and public clients and finds them by id', async () => {
      const confidential = {
        clientId: id('client'),
        secretHash: 'secret-hash',
        clientName: 'Claude Desktop',
        redirectUris: ['https://claude.ai/api/mcp/auth_callback', 'http://localhost:6274/oauth/callback'],
        grantTypes: ['authorization_code', 'refresh_token'],
        tokenEndpointAuthMethod: 'client_secret_basic' as const,
        scope: 'mcp',
        createdAt: NOW,
      };
      const publicClient = {
        clientId: id('client'),
        redirectUris: [],
        grantTypes: ['authorization_code'],
        tokenEndpointAuthMethod: 'none' as const,
        createdAt: NOW,
      };
      await store.clients.insert(confidential);
      await store.clients.insert(publicClient);
      expect(await store.clients.find(confidential.clientId)).toEqual(confidential);
      const found = await store.clients.find(publicClient.clientId);
      expect(found).toEqual(publicClient);
      expect(found?.secretHash).toBeUndefined();
      expect(await store.clients.find('unknown')).toBeUndefined();
      await expect(store.clients.insert(publicClient)).rejects.toThrow();
    });
  });

  describe('pending authorizations', () => {
    it('finds one until it expires', async () => {
      const record = pending();
      await store.pendingAuthorizations.insert(record);
      expect(await store.pendingAuthorizations.find(record.id, NOW)).toEqual(record);
      expect(await store.pendingAuthorizations.find(record.id, record.expiresAt)).toBeUndefined();
      expect(await store.pendingAuthorizations.find('unknown', NOW)).toBeUndefined();
    });

    it('updates the IdP fields and the approved resources, leaving the rest', async () => {
      const record = pending();
      await store.pendingAuthorizations.insert(record);
      await store.pendingAuthorizations.update(record.id, {});
      await store.pendingAuthorizations.update(record.id, { idpNonce: 'nonce', idpCodeVerifier: 'verifier' });
      await store.pendingAuthorizations.update(record.id, { approvedResources: [] });
      expect(await store.pendingAuthorizations.find(record.id, NOW)).toEqual({
        ...record,
        idpNonce: 'nonce',
        idpCodeVerifier: 'verifier',
        approvedResources: [],
      });
      await store.pendingAuthorizations.update(record.id, { approvedResources: ['https://gh.example.com/notion'] });
      expect((await store.pendingAuthorizations.find(record.id, NOW))?.approvedResources).toEqual(['https://gh.example.com/notion']);
    });

    it('takes one exactly once, and not once expired', async () => {
      const record = pending();
      await store.pendingAuthorizations.insert(record);
      expect(await store.pendingAuthorizations.take(record.id, NOW)).toEqual(record);
      expect(await store.pendingAuthorizations.take(record.id, NOW)).toBeUndefined();
      expect(await store.pendingAuthorizations.find(record.id, NOW)).toBeUndefined();

      const expired = pending({ expiresAt: NOW - 1 });
      await store.pendingAuthorizations.insert(expired);
      expect(await store.pendingAuthorizations.take(expired.id, NOW)).toBeUndefined();
      expect(await store.pendingAuthorizations.find(expired.id, 0)).toBeUndefined();
    });

    it('gives one to exactly one of several concurrent takes', async () => {
      const record = pending();
      await store.pendingAuthorizations.insert(record);
      const taken = await Promise.all(Array.from({ length: 5 }, () => store.pendingAuthorizations.take(record.id, NOW)));
      expect(taken.filter((t) => t !== undefined)).toEqual([record]);
    });
  });

  describe('authorization codes', () => {
    it('consumes a code once and reports every later consume as a replay', async () => {
      const record = code();
      await store.codes.insert(record);
      expect(await store.codes.consume(record.codeHash, NOW)).toEqual({ record: { ...record, consumedAt: NOW }, replayed: false });
      // The first consumption time is kept.
      expect(await store.codes.consume(record.codeHash, NOW + 5)).toEqual({ record: { ...record, consumedAt: NOW }, replayed: true });
      expect(await store.codes.consume('unknown', NOW)).toBeUndefined();
    });

    it('lets exactly one of several concurrent consumes through', async () => {
      const record = code();
      await store.codes.insert(record);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.codes.consume(record.codeHash, NOW + i)));
      expect(results.filter((r) => r?.replayed === false)).toHaveLength(1);
      expect(results.filter((r) => r?.replayed === true)).toHaveLength(5);
      const consumedAt = results.find((r) => r?.replayed === false)?.record.consumedAt;
      expect(results.every((r) => r?.record.consumedAt === consumedAt)).toBe(true);
    });
  });

  describe('grants', () => {
    it('finds a grant and revokes it once', async () => {
      const record = grant();
      await store.grants.insert(record);
      expect(await store.grants.find(record.id)).toEqual(record);
      expect(await store.grants.revoke(record.id, NOW + 1)).toBe(true);
      expect(await store.grants.revoke(record.id, NOW + 2)).toBe(false);
      expect(await store.grants.find(record.id)).toEqual({ ...record, revokedAt: NOW + 1 });
      expect(await store.grants.revoke('unknown', NOW)).toBe(false);
      expect(await store.grants.find('unknown')).toBeUndefined();
    });

    it('reports exactly one of several concurrent revocations as the one that revoked', async () => {
      const record = grant();
      await store.grants.insert(record);
      const results = await Promise.all(Array.from({ length: 5 }, () => store.grants.revoke(record.id, NOW)));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it("keeps the identity provider's sealed refresh token with a grant, and replaces it", async () => {
      const record = grant({ idpRefreshSealed: 'v1.k.first' });
      await store.grants.insert(record);
      expect(await store.grants.find(record.id)).toEqual(record);
      await store.grants.keepIdpRefresh(record.id, 'v1.k.rotated');
      expect((await store.grants.find(record.id))?.idpRefreshSealed).toBe('v1.k.rotated');
    });

    it("lists a person's grants neither revoked nor expired, oldest first", async () => {
      const sub = id('sub');
      const person = { ...subject, sub };
      const [older, newer, revoked, expired] = [
        grant({ subject: person, createdAt: NOW - 2 }),
        grant({ subject: person, createdAt: NOW - 1, clientId: 'https://app.example.com/' + 'x'.repeat(1000) }),
        grant({ subject: person }),
        grant({ subject: person, expiresAt: NOW }),
      ];
      for (const record of [newer, older, revoked, expired, grant()]) await store.grants.insert(record);
      await store.grants.revoke(revoked.id, NOW);
      expect(await store.grants.listActive(sub, NOW)).toEqual([older, newer]);
      expect(await store.grants.listActive(id('nobody'), NOW)).toEqual([]);
    });
  });

  describe('consents', () => {
    it('remembers the union of the servers approved per person and client, and forgets them', async () => {
      const sub = id('sub');
      const longClient = 'https://app.example.com/client-metadata/' + 'c'.repeat(1500);
      expect(await store.consents.find(sub, longClient)).toBeUndefined();
      await store.consents.remember(sub, longClient, ['https://gh.example.com/notion'], NOW);
      await store.consents.remember(sub, longClient, ['https://gh.example.com/linear', 'https://gh.example.com/notion'], NOW + 5);
      await store.consents.remember(sub, 'client-2', ['https://gh.example.com/db'], NOW);
      expect(await store.consents.find(sub, longClient)).toEqual({
        sub,
        clientId: longClient,
        resources: ['https://gh.example.com/notion', 'https://gh.example.com/linear'],
        createdAt: NOW,
        updatedAt: NOW + 5,
      });
      expect(await store.consents.find('someone-else', longClient)).toBeUndefined();
      await store.consents.forget(sub, longClient);
      expect(await store.consents.find(sub, longClient)).toBeUndefined();
      expect((await store.consents.find(sub, 'client-2'))?.resources).toEqual(['https://gh.example.com/db']);
    });
  });

  describe('refresh tokens', () => {
    const token = (over: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord => ({
      tokenHash: id('rt'),
      grantId: id('grant'),
      expiresAt: NOW + MINUTE,
      ...over,
    });
    const successorOf = (spent: RefreshTokenRecord) => token({ grantId: spent.grantId, expiresAt: spent.expiresAt });
    const sealed = { sealed: 'v1.k.sealed-successor', until: NOW + 10_000 };

    it('rotates a token once, keeping its sealed successor, and reports a later rotate as a replay', async () => {
      const record = token();
      const [first, second] = [successorOf(record), successorOf(record)];
      await store.refreshTokens.insert(record);
      expect(await store.refreshTokens.find(record.tokenHash)).toEqual(record);
      const spent = { ...record, usedAt: NOW, successor: sealed };
      expect(await store.refreshTokens.rotate(record.tokenHash, first, sealed, NOW)).toEqual({ record: spent, replayed: false });
      expect(await store.refreshTokens.find(first.tokenHash)).toEqual(first);
      // The replay's successor is never stored, and the first rotation's time and successor are kept.
      expect(await store.refreshTokens.rotate(record.tokenHash, second, undefined, NOW + 9)).toEqual({ record: spent, replayed: true });
      expect(await store.refreshTokens.find(second.tokenHash)).toBeUndefined();
      expect(await store.refreshTokens.find(record.tokenHash)).toEqual(spent);
      expect(await store.refreshTokens.find('unknown')).toBeUndefined();
    });

    it('rotates without keeping a successor when none is given, and reports an unknown token as undefined', async () => {
      const record = token();
      await store.refreshTokens.insert(record);
      expect(await store.refreshTokens.rotate(record.tokenHash, successorOf(record), undefined, NOW)).toEqual({
        record: { ...record, usedAt: NOW },
        replayed: false,
      });
      const orphan = token();
      expect(await store.refreshTokens.rotate('unknown', orphan, sealed, NOW)).toBeUndefined();
      expect(await store.refreshTokens.find(orphan.tokenHash)).toBeUndefined();
    });

    it('lets exactly one of several concurrent rotations through; every caller sees its successor', async () => {
      const record = token();
      await store.refreshTokens.insert(record);
      const successors = Array.from({ length: 6 }, () => successorOf(record));
      const results = await Promise.all(
        successors.map((successor, i) =>
          store.refreshTokens.rotate(record.tokenHash, successor, { ...sealed, sealed: `v1.k.${i}` }, NOW + i),
        ),
      );
      expect(results.map((r) => r?.replayed).sort()).toEqual([false, true, true, true, true, true]);
      const winner = results.findIndex((r) => r?.replayed === false);
      expect(results.every((r) => r?.record.successor?.sealed === `v1.k.${winner}` && r.record.usedAt === NOW + winner)).toBe(true);
      const stored = await Promise.all(successors.map((s) => store.refreshTokens.find(s.tokenHash)));
      expect(stored.map((s) => s !== undefined)).toEqual(successors.map((_, i) => i === winner));
    });
  });

  describe('signing keys', () => {
    it('lists keys newest first and retires one, keeping the first retirement time', async () => {
      const before = await store.signingKeys.list();
      const key = (kid: string, createdAt: number) => ({
        kid,
        alg: 'ES256' as const,
        publicJwk: `{"kid":"${kid}"}`,
        sealedPrivateJwk: `v1.k.${kid}`,
        createdAt,
      });
      const older = key(id('kid'), NOW - MINUTE);
      const newer = key(id('kid'), NOW);
      await store.signingKeys.insert(older);
      await store.signingKeys.insert(newer);
      expect(before.every((k) => k.kid !== older.kid)).toBe(true);
      const listed = (await store.signingKeys.list()).filter((k) => k.kid === older.kid || k.kid === newer.kid);
      expect(listed).toEqual([newer, older]);
      await store.signingKeys.retire(older.kid, NOW + 1);
      await store.signingKeys.retire(older.kid, NOW + 2);
      await store.signingKeys.retire('unknown', NOW);
      const all = await store.signingKeys.list();
      expect(all.find((k) => k.kid === older.kid)).toEqual({ ...older, retiredAt: NOW + 1 });
      expect(all.find((k) => k.kid === newer.kid)?.retiredAt).toBeUndefined();
      expect(all.map((k) => k.createdAt)).toEqual([...all.map((k) => k.createdAt)].sort((a, b) => b - a));
    });
  });

  describe('revocations', () => {
    it('lists the ones still active, and an insert of the same kind and value keeps the later until', async () => {
      const jti = id('jti');
      await store.revocations.insert({ kind: 'jti', value: jti, until: NOW + 10 });
      await store.revocations.insert({ kind: 'jti', value: jti, until: NOW + 5 });
      await store.revocations.insert({ kind: 'grant', value: jti, until: NOW + 1 });
      const mine = async (now: number) => (await store.revocations.listActive(now)).filter((r) => r.value === jti);
      expect(await mine(NOW)).toEqual(
        expect.arrayContaining([
          { kind: 'jti', value: jti, until: NOW + 10 },
          { kind: 'grant', value: jti, until: NOW + 1 },
        ]),
      );
      expect(await mine(NOW)).toHaveLength(2);
      await store.revocations.insert({ kind: 'jti', value: jti, until: NOW + 20 });
      expect(await mine(NOW + 1)).toEqual([{ kind: 'jti', value: jti, until: NOW + 20 }]);
      expect(await mine(NOW + 20)).toEqual([]);
    });
  });

  it('round-trips epoch milliseconds beyond 32 bits as numbers, and JSON as given', async () => {
    const record = grant({ createdAt: MAX_DATE - 1, expiresAt: MAX_DATE, resources: ['https://gh.example.com/ü?q="x"'] });
    await store.grants.insert(record);
    const found = await store.grants.find(record.id);
    expect(found).toEqual(record);
    expect(typeof found?.expiresAt).toBe('number');
    expect(found?.subject.groups).toEqual(subject.groups);
    expect(await store.grants.revoke(record.id, MAX_DATE)).toBe(true);
    expect((await store.grants.find(record.id))?.revokedAt).toBe(MAX_DATE);
  });

  it('purges what has expired and keeps the rest', async () => {
    const [oldCode, liveCode] = [code({ expiresAt: NOW }), code({ expiresAt: NOW + 1 })];
    const [oldPending, livePending] = [pending({ expiresAt: NOW }), pending({ expiresAt: NOW + 1 })];
    const [oldToken, liveToken] = [
      { tokenHash: id('rt'), grantId: 'g', expiresAt: NOW },
      { tokenHash: id('rt'), grantId: 'g', expiresAt: NOW + 1 },
    ];
    const [pastWindow, inWindow] = [
      { tokenHash: id('rt'), grantId: 'g', expiresAt: NOW + MINUTE },
      { tokenHash: id('rt'), grantId: 'g', expiresAt: NOW + MINUTE },
    ];
    const value = id('jti');
    const expiredGrant = grant({ expiresAt: NOW - 1 });
    for (const c of [oldCode, liveCode]) await store.codes.insert(c);
    for (const p of [oldPending, livePending]) await store.pendingAuthorizations.insert(p);
    for (const t of [oldToken, liveToken, pastWindow, inWindow]) await store.refreshTokens.insert(t);
    const successor = { sealed: 'v1.k.successor', until: NOW };
    await store.refreshTokens.rotate(pastWindow.tokenHash, { ...pastWindow, tokenHash: id('rt') }, successor, NOW - 10);
    await store.refreshTokens.rotate(inWindow.tokenHash, { ...inWindow, tokenHash: id('rt') }, { ...successor, until: NOW + 1 }, NOW - 10);
    await store.revocations.insert({ kind: 'jti', value, until: NOW });
    await store.revocations.insert({ kind: 'grant', value, until: NOW + 1 });
    await store.grants.insert(expiredGrant);

    await store.purgeExpired(NOW);

    expect(await store.codes.consume(oldCode.codeHash, 0)).toBeUndefined();
    expect(await store.codes.consume(liveCode.codeHash, 0)).toMatchObject({ replayed: false });
    expect(await store.pendingAuthorizations.find(oldPending.id, 0)).toBeUndefined();
    expect(await store.pendingAuthorizations.find(livePending.id, 0)).toEqual(livePending);
    expect(await store.refreshTokens.find(oldToken.tokenHash)).toBeUndefined();
    expect(await store.refreshTokens.find(liveToken.tokenHash)).toEqual(liveToken);
    // A spent token outlives its sealed successor: reuse after the window is still recognised.
    expect(await store.refreshTokens.find(pastWindow.tokenHash)).toEqual({ ...pastWindow, usedAt: NOW - 10 });
    expect((await store.refreshTokens.find(inWindow.tokenHash))?.successor).toEqual({ sealed: 'v1.k.successor', until: NOW + 1 });
    expect((await store.revocations.listActive(0)).filter((r) => r.value === value)).toEqual([{ kind: 'grant', value, until: NOW + 1 }]);
    expect(await store.grants.find(expiredGrant.id)).toEqual(expiredGrant);
  });

  describe('audit events', () => {
    let ids = 0;
    const call = (at: number, more: Partial<AuditRecord> = {}): AuditRecord => ({
      id: `audit-record-${String((ids += 1)).padStart(6, '0')}`,
      at,
      kind: 'tools/call',
      outcome: 'ok',
      sub: 'oidc:ada',
      email: 'ada@example.com',
      clientId: 'https://client.example/metadata.json',
      server: 'db',
      name: 'query',
      durationMs: 12,
      requestBytes: 345,
      ...more,
    });

    it('stores records as given and reads them back oldest first, by time, person and server', async () => {
      const since = NOW + 10 * MINUTE;
      const records = [
        call(since + 3, { outcome: 'protocol_error', errorCode: -32603 }),
        call(since + 1, { arguments: '{"sql":"select 1"}' }),
        call(since + 2, { email: 'bob@example.com', sub: 'oidc:bob', server: 'files', name: 'read' }),
        { id: 'login-record-0000001', at: since + 4, kind: 'login', outcome: 'denied', clientId: 'c1' } satisfies AuditRecord,
        call(since - 1),
      ];
      await store.auditEvents.append(records);
      expect(await store.auditEvents.list({ since, limit: 10 })).toEqual([records[1], records[2], records[0], records[3]]);
      expect(await store.auditEvents.list({ since, user: 'ada@example.com', limit: 10 })).toEqual([records[1], records[0]]);
      expect(await store.auditEvents.list({ since, user: 'oidc:bob', limit: 10 })).toEqual([records[2]]);
      expect(await store.auditEvents.list({ since, server: 'files', limit: 10 })).toEqual([records[2]]);
      expect(await store.auditEvents.list({ since, limit: 2 })).toEqual([records[1], records[2]]);
      // Sent again (a retried batch): stored once.
      await store.auditEvents.append([records[0], records[1]]);
      expect(await store.auditEvents.list({ since, limit: 10 })).toHaveLength(4);
      expect(await store.auditEvents.deleteBefore(since)).toBe(1);
      expect(await store.auditEvents.list({ since: 0, limit: 10 })).toHaveLength(4);
    });

    it("drops only the record the database refuses as data, never the rest of its batch (auth's AuditLog)", async () => {
      const at = NOW + 30 * MINUTE;
      const audit = new AuditLog(store.auditEvents, log, 0);
      // PostgreSQL refuses NUL in text; SQLite stores it. Records from runners never carry one (boundedAuditRecord).
      await audit.append([call(at, { name: 'before' }), call(at, { name: 'nul\u0000name' }), call(at, { name: 'after' })]);
      await audit.close();
      const names = (await store.auditEvents.list({ since: at, limit: 10 })).map((r) => r.name);
      expect(names).toEqual(backend.name === 'PostgreSQL' ? ['before', 'after'] : ['before', 'nul\u0000name', 'after']);
    });

    it('stores a batch larger than one INSERT takes', async () => {
      const at = NOW + 20 * MINUTE;
      await store.auditEvents.append(Array.from({ length: 1201 }, (_, i) => call(at, { name: `tool-${i}` })));
      const stored = await store.auditEvents.list({ since: at, limit: 5000 });
      expect(stored.filter((r) => r.name?.startsWith('tool-'))).toHaveLength(1201);
    });
  });

  it('keeps every record across a restart and runs each migration only once', async () => {
    const record = grant();
    const consumed = code();
    await store.grants.insert(record);
    await store.codes.insert(consumed);
    await store.codes.consume(consumed.codeHash, NOW);
    expect(await backend.migrationsRun()).toBe(MIGRATIONS);

    await store.close();
    store = await openAuthStore(backend.options);

    expect(await backend.migrationsRun()).toBe(MIGRATIONS);
    expect(await store.grants.find(record.id)).toEqual(record);
    expect(await store.codes.consume(consumed.codeHash, NOW + 1)).toEqual({ record: { ...consumed, consumedAt: NOW }, replayed: true });
  });
});

describe.each([
  { name: 'SQLite', path: join(dataDir, 'upgrade', 'auth.sqlite'), schema: undefined },
  { name: 'PostgreSQL', path: undefined, schema: `${schema}_upgrade` },
])('the refresh-token successor migration on $name', ({ path, schema: upgradeSchema }) => {
  const options: AuthStoreOptions =
    path === undefined ? { type: 'postgres', url: postgresUrl, schema: upgradeSchema } : { type: 'sqlite', path };
  /** A bare DataSource over the same database with the given migrations, as an older release had. */
  const dataSource = (migrations: DataSourceOptions['migrations']): DataSource =>
    new DataSource(
      path === undefined
        ? { type: 'postgres', url: postgresUrl, schema: upgradeSchema, migrations }
        : { type: 'better-sqlite3', database: path, migrations },
    );
  const columns = async (db: DataSource): Promise<string[]> => {
    const runner = db.createQueryRunner();
    try {
      const table = await runner.getTable('refresh_tokens');
      return (table?.columns ?? []).map((column) => column.name).sort();
    } finally {
      await runner.release();
    }
  };

  afterAll(async () => {
    if (upgradeSchema !== undefined) await onPostgres((client) => client.query(`DROP SCHEMA IF EXISTS "${upgradeSchema}" CASCADE`));
  });

  it('goes down to the first schema and up again, keeping the tokens stored in between', async () => {
    // The first release's database, with a spent token in it.
    await openAuthStore(options).then((store) => store.close());
    const old = dataSource([
      Initial1795706400000,
      RefreshTokenSuccessor1796169600000,
      UserCredentials1796774400000,
      RememberedConsent1797100000000,
      AuditEvents1797200000000,
    ]);
    await old.initialize();
    try {
      await old.undoLastMigration();
      await old.undoLastMigration();
      await old.undoLastMigration();
      const runner = old.createQueryRunner();
      expect(await runner.hasTable('user_credentials')).toBe(false);
      await runner.release();
      await old.undoLastMigration();
      expect(await columns(old)).toEqual(['expires_at', 'grant_id', 'token_hash', 'used_at']);
      const table = upgradeSchema === undefined ? 'refresh_tokens' : `"${upgradeSchema}".refresh_tokens`;
      await old.query(`INSERT INTO ${table} (token_hash, grant_id, expires_at, used_at) VALUES ('kept', 'g', ${NOW}, ${NOW - 1})`);
    } finally {
      await old.destroy();
    }

    const store = await openAuthStore(options);
    try {
      expect(await store.refreshTokens.find('kept')).toEqual({ tokenHash: 'kept', grantId: 'g', expiresAt: NOW, usedAt: NOW - 1 });
    } finally {
      await store.close();
    }
    const upgraded = dataSource([]);
    await upgraded.initialize();
    try {
      expect(await columns(upgraded)).toEqual(['expires_at', 'grant_id', 'successor_sealed', 'successor_until', 'token_hash', 'used_at']);
    } finally {
      await upgraded.destroy();
    }
  });
});

describe.each([
  { name: 'SQLite', path: join(dataDir, 'consent-upgrade', 'auth.sqlite'), schema: undefined },
  { name: 'PostgreSQL', path: undefined, schema: `${schema}_consent` },
])('the remembered-consent migration on $name', ({ path, schema: upgradeSchema }) => {
  const options: AuthStoreOptions =
    path === undefined ? { type: 'postgres', url: postgresUrl, schema: upgradeSchema } : { type: 'sqlite', path };
  const migrations = [
    Initial1795706400000,
    RefreshTokenSuccessor1796169600000,
    UserCredentials1796774400000,
    RememberedConsent1797100000000,
    AuditEvents1797200000000,
  ];
  const dataSource = (): DataSource =>
    new DataSource(
      path === undefined
        ? { type: 'postgres', url: postgresUrl, schema: upgradeSchema, migrations }
        : { type: 'better-sqlite3', database: path, migrations },
    );

  afterAll(async () => {
    if (upgradeSchema !== undefined) await onPostgres((client) => client.query(`DROP SCHEMA IF EXISTS "${upgradeSchema}" CASCADE`));
  });

  it('goes down (no consents table, no subject_sub) and up again, finding the grants stored in between by their sub', async () => {
    await openAuthStore(options).then((store) => store.close());
    const old = dataSource();
    await old.initialize();
    const runner = old.createQueryRunner();
    try {
      await old.undoLastMigration();
      expect(await runner.hasTable('audit_events')).toBe(false);
      await old.undoLastMigration();
      expect(await runner.hasTable('consents')).toBe(false);
      expect(await runner.hasColumn('grants', 'subject_sub')).toBe(false);
      const table = upgradeSchema === undefined ? 'grants' : `"${upgradeSchema}".grants`;
      await old.query(
        `INSERT INTO ${table} (id, client_id, subject, resources, scope, created_at, expires_at) VALUES ('old', 'c', '{"sub":"ada","email":"ada@example.com","groups":[]}', '[]', 'mcp', ${NOW}, ${NOW + MINUTE})`,
      );
    } finally {
      await runner.release();
      await old.destroy();
    }

    const store = await openAuthStore(options);
    try {
      expect((await store.grants.listActive('ada', NOW)).map((g) => g.id)).toEqual(['old']);
      await store.consents.remember('ada', 'c', ['https://gh.example.com/db'], NOW);
      expect((await store.consents.find('ada', 'c'))?.resources).toEqual(['https://gh.example.com/db']);
    } finally {
      await store.close();
    }
  });
});

describe('openAuthStore', () => {
  it('creates the SQLite directory and puts the file database in WAL mode', async () => {
    const path = join(dataDir, 'wal', 'deeper', 'auth.sqlite');
    const store = await openAuthStore({ type: 'sqlite', path });
    try {
      expect(existsSync(path)).toBe(true);
      const db = new Database(path, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    } finally {
      await store.close();
    }
  });

  it('opens an in-memory SQLite database, separate for every open', async () => {
    const [a, b] = [await openAuthStore({ type: 'sqlite', path: ':memory:' }), await openAuthStore({ type: 'sqlite', path: ':memory:' })];
    try {
      await a.grants.insert(grant({ id: 'only-in-a' }));
      expect(await a.grants.find('only-in-a')).toBeDefined();
      expect(await b.grants.find('only-in-a')).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('creates the PostgreSQL schema and keeps its tables and indexes in it', async () => {
    await (await openAuthStore({ type: 'postgres', url: postgresUrl, schema })).close();
    const [tables, indexes] = await onPostgres(async (client) => {
      const t = await client.query<{ name: string }>(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
        [schema],
      );
      const i = await client.query<{ name: string }>(
        "SELECT indexname AS name FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE 'idx_%' ORDER BY 1",
        [schema],
      );
      return [t.rows.map((row) => row.name), i.rows.map((row) => row.name)];
    });
    expect(tables).toEqual([
      'audit_events',
      'authorization_codes',
      'clients',
      'consents',
      'grants',
      'migrations',
      'pending_authorizations',
      'refresh_tokens',
      'revocations',
      'signing_keys',
      'upstream_authorizations',
      'upstream_clients',
      'user_credentials',
    ]);
    expect(indexes).toEqual([
      'idx_audit_events_at',
      'idx_audit_events_email_at',
      'idx_audit_events_server_at',
      'idx_authorization_codes_expires_at',
      'idx_consents_sub',
      'idx_grants_expires_at',
      'idx_grants_subject_sub',
      'idx_pending_authorizations_expires_at',
      'idx_refresh_tokens_expires_at',
      'idx_refresh_tokens_grant_id',
      'idx_refresh_tokens_successor_until',
      'idx_revocations_until',
      'idx_upstream_authorizations_expires_at',
      'idx_user_credentials_email',
    ]);
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(openAuthStore({ type: 'postgres', url: postgresUrl, schema: 'x"; DROP SCHEMA public; --' })).rejects.toThrow(
      /plain SQL identifier/,
    );
  });
});
