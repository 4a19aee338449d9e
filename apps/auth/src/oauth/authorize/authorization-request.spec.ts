import type { AuthStore } from '../../persistence/auth-store.port.js';
import { openAuthStore } from '../../persistence/open-auth-store.js';
import { ResourceIndicators } from '../../resources/resource-indicator.js';
import { ClientMetadataDocuments } from '../clients/client-metadata-document.js';
import { ClientRegistry } from '../client-registry.js';
import { PageError } from '../oauth-error.js';
import { AuthorizationRedirect, AuthorizationRequestChecks } from './authorization-request.js';

const BASE = 'https://mcp.example.com';
const REDIRECT = 'http://127.0.0.1:5555/callback';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('AuthorizationRequestChecks', () => {
  let store: AuthStore;
  const resources = new ResourceIndicators(BASE, ['db', 'wiki']);
  const checks = (requireResource = false) => {
    const clients = new ClientRegistry(store.clients, new ClientMetadataDocuments({ devMode: false }), false);
    return new AuthorizationRequestChecks(clients, resources, { issuer: BASE, requireResource });
  };
  const params = (extra: Record<string, string | string[] | undefined> = {}) => {
    const all: Record<string, string | string[] | undefined> = {
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: REDIRECT,
      state: 's1',
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      resource: `${BASE}/db`,
      ...extra,
    };
    const search = new URLSearchParams();
    for (const [k, v] of Object.entries(all)) for (const value of v === undefined ? [] : [v].flat()) search.append(k, value);
    return search;
  };
  const redirectError = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(err instanceof AuthorizationRedirect)) throw new Error(`expected a redirect, got ${String(err)}`);
    return new URL(err.location);
  };

  beforeAll(async () => {
    store = await openAuthStore({ type: 'sqlite', path: ':memory:' });
    await store.clients.insert({
      clientId: 'client-1',
      clientName: 'Client One',
      redirectUris: ['http://127.0.0.1/callback', 'https://app.example.com/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'none',
      createdAt: 0,
    });
  });
  afterAll(() => store.close());

  it('accepts a good request, matching a loopback redirect URI on any port and canonicalising resources', async () => {
    const request = await checks().check(
      params({ resource: [`${BASE.toUpperCase()}/db/`, `${BASE}/wiki/mcp`], scope: 'mcp offline_access' }),
    );
    expect(request).toMatchObject({
      redirectUri: REDIRECT,
      state: 's1',
      codeChallenge: CHALLENGE,
      resources: [`${BASE}/db`, `${BASE}/wiki`],
      scope: 'mcp',
    });
  });

  it.each([
    ['an unknown client', { client_id: 'nope' }],
    ['two client ids', { client_id: ['client-1', 'client-1'] }],
    ['an unregistered redirect URI', { redirect_uri: 'https://evil.example/callback' }],
    ['a loopback URI with another path', { redirect_uri: 'http://127.0.0.1:5555/other' }],
    ['two redirect URIs', { redirect_uri: [REDIRECT, REDIRECT] }],
  ])('shows %s on a page, before anything else', async (_name, extra) => {
    await expect(checks().check(params({ ...extra, response_type: 'token', state: undefined }))).rejects.toBeInstanceOf(PageError);
  });

  it.each([
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
    ['no state', { state: undefined }, 'invalid_request'],
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no challenge method', { code_challenge_method: undefined }, 'invalid_request'],
    ['a short challenge', { code_challenge: 'abc' }, 'invalid_request'],
    ['an unknown resource', { resource: 'https://other.example/db' }, 'invalid_target'],
    ['a repeated state', { state: ['a', 'b'] }, 'invalid_request'],
  ])('redirects %s to the client with iss', async (_name, extra, error) => {
    const location = await redirectError(checks().check(params(extra)));
    expect(location.href.startsWith(REDIRECT)).toBe(true);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('iss')).toBe(BASE);
  });

  it("sends errors at once only to a redirect URI on the user's device, else shows them first", async () => {
    const onDevice = await checks()
      .check(params({ response_type: 'token' }))
      .catch((e: unknown) => e);
    expect(onDevice).toMatchObject({ immediate: true });
    const web = await checks()
      .check(params({ response_type: 'token', redirect_uri: 'https://app.example.com/callback' }))
      .catch((e: unknown) => e);
    if (!(web instanceof AuthorizationRedirect)) throw new Error(`expected a redirect, got ${String(web)}`);
    expect(web.immediate).toBe(false);
    expect(web.message).toBe('response_type must be "code"');
  });

  it('lets a request without resource through, unless requireResource', async () => {
    expect((await checks().check(params({ resource: undefined }))).resources).toEqual([]);
    const location = await redirectError(checks(true).check(params({ resource: undefined })));
    expect(location.searchParams.get('error')).toBe('invalid_target');
  });
});
