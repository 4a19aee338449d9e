import { PassThrough } from 'node:stream';
import { Envelope } from '#crypto';
import { createLogger } from '#observability';
import { startStandInIdp, type StandInIdp, type StandInUser } from '#testing';
import type { AuthStore, GrantRecord } from '../persistence/auth-store.port.js';
import { openAuthStore } from '../persistence/open-auth-store.js';
import { createIdentityProvider } from './idp.factory.js';
import { callbackFor, newLogin, ourClient, settingsFor } from './idp-error.fixture.js';
import { IdpRecheck } from './idp-recheck.js';
import type { IdentityProvider } from './identity-provider.port.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const CLIENT = { ...ourClient('gatehouse'), grant_types: ['authorization_code', 'refresh_token'] };
const envelope = new Envelope([{ id: 'k', key: Buffer.alloc(32, 3) }]);
const policy = { allowedDomains: ['example.com'], allowedEmails: [], allowedGroups: [], allowedOrgs: [] };

/** Live objects: the stand-in reads them at every refresh, so a test can change or remove a person. */
const users: Record<string, StandInUser> = { ann: { sub: 'ann', email: 'ann@example.com', email_verified: true } };

describe('IdpRecheck against a real OpenID provider that gives refresh tokens', () => {
  let idp: StandInIdp;
  let store: AuthStore;
  let provider: IdentityProvider;
  let recheck: IdpRecheck;

  beforeAll(async () => {
    // Rotating, like most IdPs that give refresh tokens: each refresh spends the token it used.
    idp = await startStandInIdp({ users, clients: [CLIENT], upstream: { refreshTokens: true, rotateRefreshTokens: true } });
    store = await openAuthStore({ type: 'sqlite', path: ':memory:' });
    provider = createIdentityProvider(settingsFor(CLIENT, { provider: 'oidc', discoveryUrl: idp.discoveryUrl }));
    recheck = new IdpRecheck({ idp: provider, policy, envelope, grants: store.grants, log });
  });
  afterAll(async () => {
    await store?.close();
    await idp?.close();
  });

  /** Logs `user` in through the browser and keeps the grant as LoginFlow would. */
  async function grantAfterLogin(id: string, user: StandInUser): Promise<GrantRecord> {
    users[id] = user;
    idp.loginAs(id);
    const login = newLogin();
    let kept: string | undefined;
    const identity = await provider.completeLogin(await callbackFor(provider, login), login, (token) => (kept = token));
    if (kept === undefined) throw new Error('the IdP gave no refresh token');
    const grant: GrantRecord = {
      id: `grant-${id}`,
      clientId: 'c1',
      subject: { sub: identity.sub, email: identity.email, groups: identity.groups },
      resources: [],
      scope: '',
      createdAt: Date.now(),
      expiresAt: Date.now() + 3_600_000,
      idpRefreshSealed: recheck.seal(`grant-${id}`, kept),
    };
    expect(grant.idpRefreshSealed).not.toContain(kept);
    await store.grants.insert(grant);
    return grant;
  }

  const current = async (grant: GrantRecord) => (await store.grants.find(grant.id)) ?? grant;

  it('allows a person the IdP still vouches for, refresh after refresh (keeping the rotated token)', async () => {
    const grant = await grantAfterLogin('ann', { sub: 'ann', email: 'ann@example.com', email_verified: true });
    expect(await recheck.allows(await current(grant))).toBe(true);
    const rotated = (await current(grant)).idpRefreshSealed;
    expect(rotated).not.toBe(grant.idpRefreshSealed);
    expect(await recheck.allows(await current(grant))).toBe(true);
    expect(idp.grantCount('refresh_token')).toBeGreaterThanOrEqual(2);
  });

  it('refuses a person the IdP no longer knows, and one the policy now refuses', async () => {
    const removed = await grantAfterLogin('rob', { sub: 'rob', email: 'rob@example.com', email_verified: true });
    const moved = await grantAfterLogin('meg', { sub: 'meg', email: 'meg@example.com', email_verified: true });
    delete users.rob;
    users.meg = { sub: 'meg', email: 'meg@elsewhere.test', email_verified: true };
    expect(await recheck.allows(await current(removed))).toBe(false);
    expect(await recheck.allows(await current(moved))).toBe(false);
  });

  it('does not refuse when the IdP cannot be asked, and asks nothing for a grant without a kept token', async () => {
    const grant = await grantAfterLogin('kim', { sub: 'kim', email: 'kim@example.com', email_verified: true });
    const unreachable = createIdentityProvider(
      settingsFor(CLIENT, { provider: 'oidc', discoveryUrl: 'http://127.0.0.1:9/.well-known/openid-configuration' }),
    );
    const offline = new IdpRecheck({ idp: unreachable, policy, envelope, grants: store.grants, log });
    expect(await offline.allows(await current(grant))).toBe(true);
    const without = { ...(await current(grant)) };
    delete without.idpRefreshSealed;
    const before = idp.grantCount('refresh_token');
    expect(await recheck.allows(without)).toBe(true);
    expect(idp.grantCount('refresh_token')).toBe(before);
    // Sealed for another grant: it does not open here, so it is not used.
    expect(await recheck.allows({ ...without, id: 'another-grant', idpRefreshSealed: (await current(grant)).idpRefreshSealed })).toBe(true);
    expect(idp.grantCount('refresh_token')).toBe(before);
  });
});
