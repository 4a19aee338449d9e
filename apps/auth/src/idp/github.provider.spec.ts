import { randomId, sha256Base64Url } from '#crypto';
import { MAX_ORG_PAGES, nextPage, type Fetch } from './github-api.js';
import { GitHubIdentityProvider } from './github.provider.js';
import { createIdentityProvider } from './idp.factory.js';
import { idpErrorOf, idpErrorThrownBy, newLogin, REDIRECT_URI } from './idp-error.fixture.js';
import type { IdpSettings } from './idp-settings.js';
import type { LoginRequest } from './identity-provider.port.js';

const TOKEN = 'gho_stand_in_token';

const settings: IdpSettings = {
  provider: 'github',
  clientId: 'gh-client',
  clientSecret: 'gh-secret',
  redirectUri: REDIRECT_URI,
  scopes: [],
  allowedOrgs: ['Acme'],
  devMode: false,
};

interface Recorded {
  url: URL;
  init: RequestInit;
}

type Route = (url: URL, init: RequestInit) => Response;

/** A fetch that answers like GitHub from a table of routes (by path), and records every call. */
function fakeGitHub(routes: Record<string, Route>): { fetchFn: Fetch; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const fetchFn: Fetch = (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    calls.push({ url, init });
    const route = routes[url.pathname];
    return Promise.resolve(route ? route(url, init) : new Response('{"message":"Not Found"}', { status: 404 }));
  };
  return { fetchFn, calls };
}

const json = (body: unknown, headers: Record<string, string> = {}) => new Response(JSON.stringify(body), { headers });

function gitHubAccount(emails: unknown[], orgPages: unknown[][] = [[]]): Record<string, Route> {
  return {
    '/login/oauth/access_token': () => json({ access_token: TOKEN, token_type: 'bearer', scope: 'read:user,user:email,read:org' }),
    '/user': () => json({ id: 1234, login: 'octocat' }),
    '/user/emails': () => json(emails),
    '/user/orgs': (url) => {
      const page = Number(url.searchParams.get('page') ?? '1');
      const headers: Record<string, string> = {};
      if (page < orgPages.length) headers['link'] = `<https://api.github.com/user/orgs?per_page=100&page=${page + 1}>; rel="next"`;
      return json(orgPages[page - 1] ?? [], headers);
    },
  };
}

function callback(login: LoginRequest, params: Record<string, string> = { code: 'gh-code' }): URL {
  const url = new URL(REDIRECT_URI);
  url.searchParams.set('state', login.state);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url;
}

const verifiedPrimary = [
  { email: 'octo@old.example', primary: false, verified: true },
  { email: 'Octo@Example.com', primary: true, verified: true },
];

describe('GitHub provider (mocked GitHub)', () => {
  it('sends the browser to GitHub with state, PKCE S256 and read:org when orgs are restricted', async () => {
    const login = newLogin();
    const url = await createIdentityProvider(settings).authorizationUrl(login);
    expect(url.origin + url.pathname).toBe('https://github.com/login/oauth/authorize');
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: 'gh-client',
      redirect_uri: REDIRECT_URI,
      scope: 'read:user user:email read:org',
      state: login.state,
      code_challenge: sha256Base64Url(login.codeVerifier),
      code_challenge_method: 'S256',
    });
    const noOrgs = await createIdentityProvider({ ...settings, allowedOrgs: [] }).authorizationUrl(login);
    expect(noOrgs.searchParams.get('scope')).toBe('read:user user:email');
  });

  it('redeems the code with the verifier and builds the Identity from the verified primary email and all org pages', async () => {
    const { fetchFn, calls } = fakeGitHub(
      gitHubAccount(verifiedPrimary, [[{ login: 'Acme' }, { login: 'octo-labs' }], [{ login: 'Third-Org' }]]),
    );
    const login = newLogin();
    const identity = await new GitHubIdentityProvider(settings, fetchFn).completeLogin(callback(login), login);
    expect(identity).toEqual({
      sub: 'github:1234',
      email: 'octo@example.com',
      emailVerified: true,
      groups: [],
      orgs: ['acme', 'octo-labs', 'third-org'],
    });
    const redeem = calls[0];
    expect(redeem.url.href).toBe('https://github.com/login/oauth/access_token');
    const form = redeem?.init.body;
    if (!(form instanceof URLSearchParams)) throw new Error('the token request is not a form');
    expect(Object.fromEntries(form)).toEqual({
      client_id: 'gh-client',
      client_secret: 'gh-secret',
      code: 'gh-code',
      redirect_uri: REDIRECT_URI,
      code_verifier: login.codeVerifier,
    });
    const apiCalls = calls.slice(1);
    expect(apiCalls.map((call) => call.url.pathname + call.url.search)).toEqual([
      '/user',
      '/user/emails',
      '/user/orgs?per_page=100',
      '/user/orgs?per_page=100&page=2',
    ]);
    for (const call of apiCalls) {
      expect(new Headers(call.init.headers).get('authorization')).toBe(`Bearer ${TOKEN}`);
      expect(call.url.href).not.toContain(TOKEN);
    }
  });

  it('denies an account whose primary email is not verified, even with another verified address', async () => {
    const emails = [
      { email: 'octo@example.com', primary: true, verified: false },
      { email: 'octo@other.example', primary: false, verified: true },
    ];
    const { fetchFn } = fakeGitHub(gitHubAccount(emails));
    const login = newLogin();
    const err = await idpErrorOf(new GitHubIdentityProvider(settings, fetchFn).completeLogin(callback(login), login));
    expect(err).toMatchObject({ code: 'access_denied', message: expect.stringMatching(/no verified primary email/) });
  });

  it(`stops following org pages after ${MAX_ORG_PAGES}`, async () => {
    const pages = Array.from({ length: MAX_ORG_PAGES + 5 }, (_, i) => [{ login: `org-${i + 1}` }]);
    const { fetchFn, calls } = fakeGitHub(gitHubAccount(verifiedPrimary, pages));
    const login = newLogin();
    const identity = await new GitHubIdentityProvider(settings, fetchFn).completeLogin(callback(login), login);
    expect(identity.orgs).toHaveLength(MAX_ORG_PAGES);
    expect(calls.filter((call) => call.url.pathname === '/user/orgs')).toHaveLength(MAX_ORG_PAGES);
  });

  it('follows a next link only on the API origin, so the token goes nowhere else', () => {
    const api = new URL('https://api.github.com/user');
    expect(
      nextPage('<https://api.github.com/user/orgs?page=2>; rel="next", <https://api.github.com/user/orgs?page=9>; rel="last"', api)?.href,
    ).toBe('https://api.github.com/user/orgs?page=2');
    expect(nextPage('<https://evil.example/user/orgs?page=2>; rel="next"', api)).toBeUndefined();
    expect(nextPage('<https://api.github.com/user/orgs?page=1>; rel="prev"', api)).toBeUndefined();
    expect(nextPage(null, api)).toBeUndefined();
  });

  it('reports the refusal, the token error and a foreign state', async () => {
    const { fetchFn } = fakeGitHub({
      '/login/oauth/access_token': () => json({ error: 'bad_verification_code', error_description: 'expired' }),
    });
    const provider = new GitHubIdentityProvider(settings, fetchFn);
    const login = newLogin();
    expect(await idpErrorOf(provider.completeLogin(callback(login, { error: 'access_denied' }), login))).toMatchObject({
      code: 'access_denied',
    });
    expect(await idpErrorOf(provider.completeLogin(callback(login), login))).toMatchObject({
      code: 'idp_error',
      message: expect.stringMatching(/bad_verification_code/),
    });
    expect(await idpErrorOf(provider.completeLogin(callback(login, { state: randomId(), code: 'gh-code' }), login))).toMatchObject({
      code: 'idp_error',
      message: expect.stringMatching(/does not belong/),
    });
  });

  it('fails with idp_error when GitHub cannot be reached or answers with an error status', async () => {
    const login = newLogin();
    const unreachable: Fetch = () => Promise.reject(new TypeError('fetch failed'));
    expect(await idpErrorOf(new GitHubIdentityProvider(settings, unreachable).completeLogin(callback(login), login))).toMatchObject({
      code: 'idp_error',
      message: expect.stringMatching(/could not be reached/),
    });
    const { fetchFn } = fakeGitHub({ ...gitHubAccount(verifiedPrimary), '/user': () => new Response('{}', { status: 401 }) });
    expect(await idpErrorOf(new GitHubIdentityProvider(settings, fetchFn).completeLogin(callback(login), login))).toMatchObject({
      message: expect.stringMatching(/HTTP 401/),
    });
  });

  it('points at GitHub Enterprise through the settings, https only outside dev mode', async () => {
    const enterprise = {
      ...settings,
      userInfoUrl: 'https://ghe.example.test/api/v3/user',
      tokenUrl: 'https://ghe.example.test/login/oauth/access_token',
    };
    const routes = gitHubAccount(verifiedPrimary);
    const { fetchFn, calls } = fakeGitHub({
      '/login/oauth/access_token': routes['/login/oauth/access_token'],
      '/api/v3/user': routes['/user'],
      '/api/v3/user/emails': routes['/user/emails'],
      '/api/v3/user/orgs': () => json([]),
    });
    const login = newLogin();
    await new GitHubIdentityProvider(enterprise, fetchFn).completeLogin(callback(login), login);
    expect(calls.every((call) => call.url.origin === 'https://ghe.example.test')).toBe(true);
    expect(
      idpErrorThrownBy(() => createIdentityProvider({ ...settings, userInfoUrl: 'http://ghe.example.test/api/v3/user' })),
    ).toMatchObject({ code: 'misconfigured' });
  });
});
