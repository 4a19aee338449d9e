import { randomId, sha256Base64Url } from '#crypto';
import { ScriptedBrowser, startStandInIdp, type StandInIdp } from '#testing';
import { createIdentityProvider } from './idp.factory.js';
import { IdpError } from './idp-error.js';
import type { IdpSettings } from './idp-settings.js';
import type { IdentityProvider, LoginRequest } from './identity-provider.port.js';

const REDIRECT_URI = 'https://gw.example.test/oauth/callback';
const CLIENT = { client_id: 'gatehouse-google', client_secret: 'stand-in-secret', redirect_uris: [REDIRECT_URI] };

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
  return {
    provider: 'google',
    clientId: CLIENT.client_id,
    clientSecret: CLIENT.client_secret,
    redirectUri: REDIRECT_URI,
    authorizationUrl: idp.authorizationUrl,
    tokenUrl: idp.tokenUrl,
    userInfoUrl: idp.userInfoUrl,
    scopes: [],
    allowedOrgs: [],
    devMode: true,
    ...overrides,
  };
}

function newLogin(): LoginRequest {
  return { state: randomId(), nonce: randomId(), codeVerifier: randomId(32) };
}

async function callbackFor(provider: IdentityProvider, login: LoginRequest): Promise<URL> {
  return new ScriptedBrowser().follow(await provider.authorizationUrl(login), REDIRECT_URI);
}

async function idpErrorOf(work: Promise<unknown>): Promise<IdpError> {
  const err: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof IdpError)) throw new Error(`expected an IdpError, got ${String(err)}`);
  return err;
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
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: CLIENT.client_id,
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile',
      state: login.state,
      nonce: login.nonce,
      code_challenge: sha256Base64Url(login.codeVerifier),
      code_challenge_method: 'S256',
    });
  });

  it('turns a verified login into an Identity from userinfo, hd included', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    const identity = await provider.completeLogin(await callbackFor(provider, login), login);
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
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    idp.loginAs('gmail');
    const identity = await provider.completeLogin(await callbackFor(provider, login), login);
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

function idpErrorThrownBy(work: () => unknown): IdpError {
  try {
    work();
  } catch (err) {
    if (err instanceof IdpError) return err;
    throw new Error(`expected an IdpError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected an IdpError, nothing was thrown');
}
