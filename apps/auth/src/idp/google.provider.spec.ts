import { randomId } from '#crypto';
import { startStandInIdp, type StandInIdp } from '#testing';
import { createIdentityProvider } from './idp.factory.js';
import { callbackFor, codeFlowQuery, idpErrorOf, idpErrorThrownBy, logIn, newLogin, ourClient, settingsFor } from './idp-error.fixture.js';
import type { IdpSettings } from './idp-settings.js';

const CLIENT = ourClient('gatehouse-google');

let idp: StandInIdp;

beforeAll(async () => {
  idp = await startStandInIdp({
    users: {
      alice: { sub: '248289761001', email: 'alice@example.com', email_verified: true, hd: 'example.com', name: 'Alice' },
      gmail: { sub: '248289761002', email: 'Carol@Gmail.com', email_verified: true },
    },
    clients: [CLIENT],
  });
});

afterAll(async () => {
  await idp.close();
});

/** Google, with its three endpoints pointed at the stand-in. */
function settings(overrides: Partial<IdpSettings> = {}): IdpSettings {
  const endpoints = { authorizationUrl: idp.authorizationUrl, tokenUrl: idp.tokenUrl, userInfoUrl: idp.userInfoUrl };
  return settingsFor(CLIENT, { provider: 'google', ...endpoints, ...overrides });
}

describe('Google provider (passport-google-oauth20) against the stand-in IdP', () => {
  it("uses Google's own endpoints unless told otherwise", async () => {
    const google = createIdentityProvider(
      settings({ authorizationUrl: undefined, tokenUrl: undefined, userInfoUrl: undefined, devMode: false }),
    );
    const url = await google.authorizationUrl(newLogin());
    expect(url.origin + url.pathname).toBe('https://accounts.google.com/o/oauth2/v2/auth');
  });

  it('asks for openid email profile with our state, nonce and PKCE S256 challenge', async () => {
    const login = newLogin();
    const url = await createIdentityProvider(settings()).authorizationUrl(login);
    expect(url.origin + url.pathname).toBe(idp.authorizationUrl);
    expect(Object.fromEntries(url.searchParams)).toEqual(codeFlowQuery(CLIENT.client_id, login));
  });

  it('turns a verified login into an Identity from userinfo, hd included', async () => {
    const identity = await logIn(createIdentityProvider(settings()));
    expect(identity).toEqual({
      sub: 'google:248289761001',
      email: 'alice@example.com',
      emailVerified: true,
      hostedDomain: 'example.com',
      groups: [],
      orgs: [],
    });
  });

  it('leaves hostedDomain out for a consumer account', async () => {
    idp.loginAs('gmail');
    const identity = await logIn(createIdentityProvider(settings()));
    expect(identity).toEqual({ sub: 'google:248289761002', email: 'carol@gmail.com', emailVerified: true, groups: [], orgs: [] });
  });

  it('ends with access_denied when the user refuses', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    idp.loginAs('deny');
    const err = await idpErrorOf(provider.completeLogin(await callbackFor(provider, login), login));
    expect(err.code).toBe('access_denied');
  });

  it('refuses a callback whose state is not this login’s', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    const callback = await callbackFor(provider, login);
    const forged = new URL(callback);
    forged.searchParams.set('state', randomId());
    const err = await idpErrorOf(provider.completeLogin(forged, login));
    expect(err).toMatchObject({ code: 'idp_error', message: expect.stringMatching(/does not belong/) });
  });

  it('refuses a tampered code and a code redeemed without its PKCE verifier', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    const callback = await callbackFor(provider, login);
    const tampered = new URL(callback);
    tampered.searchParams.set('code', randomId(32));
    expect(await idpErrorOf(provider.completeLogin(tampered, login))).toMatchObject({
      code: 'idp_error',
      message: expect.stringMatching(/invalid_grant/),
    });
    const wrongVerifier = { ...login, codeVerifier: randomId(32) };
    expect(await idpErrorOf(provider.completeLogin(callback, wrongVerifier))).toMatchObject({
      message: expect.stringMatching(/invalid_grant/),
    });
  });

  it('refuses an ID token that carries another login’s nonce', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    const err = await idpErrorOf(provider.completeLogin(await callbackFor(provider, login), { ...login, nonce: randomId() }));
    expect(err).toMatchObject({ code: 'idp_error', message: expect.stringMatching(/ID token does not belong/) });
  });

  it('refuses plain http IdP URLs outside dev mode', () => {
    expect(idpErrorThrownBy(() => createIdentityProvider(settings({ devMode: false })))).toMatchObject({ code: 'misconfigured' });
  });
});
