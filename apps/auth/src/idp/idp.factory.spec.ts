import { authorizationCode, callbackOnRedirectUri } from './authorization-response.js';
import { createIdentityProvider } from './idp.factory.js';
import { idpErrorThrownBy } from './idp-error.fixture.js';
import type { IdpSettings } from './idp-settings.js';
import { idpUrl } from './idp-url.js';

const base: IdpSettings = {
  provider: 'oidc',
  clientId: 'client',
  clientSecret: 'secret',
  redirectUri: 'https://gw.example.test/oauth/callback',
  discoveryUrl: 'https://idp.example.test',
  scopes: [],
  allowedOrgs: [],
  devMode: false,
};

describe('createIdentityProvider', () => {
  it('builds every kind of provider from sound settings', () => {
    for (const provider of ['google', 'github', 'oidc'] as const) expect(createIdentityProvider({ ...base, provider })).toBeDefined();
  });

  it('refuses settings without a client id or secret, or with an unusable redirect URI', () => {
    expect(idpErrorThrownBy(() => createIdentityProvider({ ...base, clientId: '' })).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => createIdentityProvider({ ...base, clientSecret: '' })).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => createIdentityProvider({ ...base, redirectUri: '/oauth/callback' })).code).toBe('misconfigured');
  });

  it('refuses an OIDC provider with neither a discovery URL nor an authorization URL', () => {
    expect(idpErrorThrownBy(() => createIdentityProvider({ ...base, discoveryUrl: undefined })).code).toBe('misconfigured');
  });

  it.each(['google', 'github', 'oidc'] as const)('%s: refuses plain http outside dev mode, without echoing the URL', (provider) => {
    const settings = {
      ...base,
      provider,
      discoveryUrl: 'http://idp.example.test',
      authorizationUrl: 'http://user:pw@idp.example.test/authorize',
    };
    expect(idpErrorThrownBy(() => createIdentityProvider(settings)).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => createIdentityProvider(settings)).message).not.toContain('pw');
  });
});

describe('idpUrl', () => {
  it('allows plain http in dev mode on loopback hosts only', () => {
    for (const host of ['127.0.0.1:8080', '[::1]:8080', 'localhost:8080'])
      expect(idpUrl(`http://${host}/x`, true, 'URL').protocol).toBe('http:');
    expect(idpErrorThrownBy(() => idpUrl('http://10.0.0.5/x', true, 'URL')).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => idpUrl('http://127.0.0.1.nip.io/x', true, 'URL')).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => idpUrl('http://127.0.0.1/x', false, 'URL')).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => idpUrl('ftp://idp.example.test/x', true, 'URL')).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => idpUrl('not a url', true, 'URL')).code).toBe('misconfigured');
    expect(idpUrl('https://idp.example.test/x', false, 'URL').href).toBe('https://idp.example.test/x');
  });
});

describe('the callback checks every provider shares', () => {
  const login = { state: 'state-1', nonce: 'n', codeVerifier: 'v' };
  const callback = (query: string) => new URL(`https://gw.example.test/oauth/callback?${query}`);

  it('returns the code of a response to this login', () => {
    expect(authorizationCode(callback('state=state-1&code=abc'), login)).toBe('abc');
  });

  it('tells a refusal from other IdP errors, and never echoes odd error text', () => {
    expect(idpErrorThrownBy(() => authorizationCode(callback('state=state-1&error=access_denied'), login))).toMatchObject({
      code: 'access_denied',
    });
    expect(idpErrorThrownBy(() => authorizationCode(callback('state=state-1&error=server_error'), login))).toMatchObject({
      code: 'idp_error',
      message: expect.stringContaining('server_error'),
    });
    expect(idpErrorThrownBy(() => authorizationCode(callback('state=state-1&error=%3Cscript%3E'), login))).toMatchObject({
      code: 'idp_error',
      message: expect.not.stringContaining('<script>'),
    });
  });

  it('refuses a missing or foreign state, and a missing code', () => {
    expect(idpErrorThrownBy(() => authorizationCode(callback('code=abc'), login))).toMatchObject({ code: 'idp_error' });
    expect(idpErrorThrownBy(() => authorizationCode(callback('state=state-2&code=abc'), login))).toMatchObject({ code: 'idp_error' });
    expect(idpErrorThrownBy(() => authorizationCode(callback('state=state-1'), login))).toMatchObject({ code: 'idp_error' });
  });

  it('puts the response on our configured redirect URI, whatever host the request arrived on', () => {
    const arrived = new URL('http://auth.internal:3000/oauth/callback?state=s&code=c');
    expect(callbackOnRedirectUri('https://gw.example.test/oauth/callback', arrived).href).toBe(
      'https://gw.example.test/oauth/callback?state=s&code=c',
    );
  });
});
