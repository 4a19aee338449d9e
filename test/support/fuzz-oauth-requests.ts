import fc from 'fast-check';
import { sometimes } from './fuzz-arbitraries.js';
import type { Credential, FuzzRequest } from './fuzz-http-requests.js';

/** The redirect URI of the client the harness registers. */
export const REGISTERED_REDIRECT = 'http://127.0.0.1:9/callback';

/** What the generators need to know of the gateway: its base URL and a client registered there. */
export interface FuzzSite {
  baseURL: string;
  clientId: string;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];
const anyText = fc.string({ unit: 'binary', maxLength: 40 });

/** A parameter's usual value mostly, something odd sometimes, absent now and then. */
function param(usual: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { arbitrary: usual, weight: 5 },
    { arbitrary: anyText, weight: 1 },
    { arbitrary: fc.constantFrom('', 'x'.repeat(5000), '%00', '\u0000'), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 2 },
  );
}

function encodeParams(params: Record<string, string | undefined>, repeat?: string): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.append(name, value);
  if (repeat !== undefined) search.append(repeat, 'again');
  return search.toString();
}

const resource = (base: string) =>
  fc.oneof(
    fc.constantFrom(
      `${base}/open`,
      `${base}/bearer`,
      `${base.toUpperCase()}/open/`,
      `${base}/nope`,
      'https://elsewhere.test/db',
      'urn:x',
      base,
    ),
    fc.webUrl(),
  );

const authorizeParams = (site: FuzzSite) =>
  fc.record({
    response_type: param(fc.constantFrom('code', 'token', 'code id_token')),
    client_id: param(fc.constantFrom(site.clientId, 'no-such-client', 'https://127.0.0.1:1/client.json', 'http://10.0.0.1/c.json')),
    redirect_uri: param(
      fc.constantFrom(REGISTERED_REDIRECT, 'http://127.0.0.1:7/callback', 'https://evil.test/cb', 'javascript:alert(1)', 'cursor://cb'),
    ),
    state: param(fc.string({ minLength: 1, maxLength: 20 })),
    code_challenge: param(fc.base64String({ minLength: 43, maxLength: 44 }).map((s) => s.replace(/[+/=]/g, 'A').slice(0, 43))),
    code_challenge_method: param(fc.constantFrom('S256', 'plain', 's256')),
    resource: param(resource(site.baseURL)),
    scope: param(fc.constantFrom('mcp', 'openid', 'mcp openid offline_access')),
    prompt: param(fc.constantFrom('consent', 'none', 'login')),
  });

const tokenForm = (site: FuzzSite) =>
  fc.record({
    grant_type: param(
      fc.constantFrom(
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'password',
        'urn:ietf:params:oauth:grant-type:device_code',
      ),
    ),
    code: param(fc.base64String({ maxLength: 44 })),
    code_verifier: param(fc.base64String({ minLength: 43, maxLength: 128 })),
    redirect_uri: param(fc.constant(REGISTERED_REDIRECT)),
    client_id: param(fc.constant(site.clientId)),
    client_secret: param(fc.string({ maxLength: 20 })),
    refresh_token: param(fc.base64String({ maxLength: 60 })),
    resource: param(resource(site.baseURL)),
    token: param(fc.oneof(fc.base64String({ maxLength: 60 }), fc.constant('eyJhbGciOiJFUzI1NiJ9.e30.sig'))),
    token_type_hint: param(fc.constantFrom('access_token', 'refresh_token', 'id_token')),
  });

const clientMetadata = fc.record(
  {
    client_name: fc.oneof(fc.string({ maxLength: 30 }), fc.constant('x'.repeat(10_000)), fc.integer()),
    redirect_uris: fc.oneof(
      fc.array(
        fc.oneof(
          fc.constantFrom(REGISTERED_REDIRECT, 'https://app.example/cb', 'http://evil.test/cb', 'cursor://x', '', 'not a url'),
          fc.webUrl(),
        ),
        {
          maxLength: 3,
        },
      ),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    token_endpoint_auth_method: fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt', ''),
    grant_types: fc.oneof(fc.subarray(['authorization_code', 'refresh_token', 'implicit', 'password']), fc.jsonValue({ maxDepth: 1 })),
    response_types: fc.subarray(['code', 'token']),
    scope: fc.string({ maxLength: 20 }),
    logo_uri: fc.webUrl(),
    client_uri: fc.oneof(fc.webUrl(), fc.constant('javascript:alert(1)')),
    jwks_uri: fc.webUrl(),
    software_statement: fc.string({ maxLength: 30 }),
  },
  { requiredKeys: [] },
);

/** Content-Type usually `usual`, sometimes another or none. */
const contentType = (usual: string) =>
  fc
    .oneof(
      { arbitrary: fc.constant(usual), weight: 5 },
      { arbitrary: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''), weight: 1 },
    )
    .map((type): Record<string, string> => (type === '' ? {} : { 'content-type': type }));
const formHeaders = contentType('application/x-www-form-urlencoded');
const jsonHeaders = contentType('application/json');
const method = (usual: string) =>
  fc.oneof({ arbitrary: fc.constant(usual), weight: 6 }, { arbitrary: fc.constantFrom(...METHODS), weight: 1 });
const repeatParam = sometimes(fc.constantFrom('state', 'client_id', 'resource', 'redirect_uri', 'code', 'grant_type'), 5);
const none: Credential = { kind: 'none' };
const routeCredential = fc.oneof(
  { arbitrary: fc.constant(none), weight: 6 },
  { arbitrary: fc.constantFrom<Credential>({ kind: 'valid', server: 'open' }, { kind: 'literal', value: 'Basic Og==' }), weight: 1 },
);

function request(method: string, path: string, headers: Record<string, string>, credential: Credential, body?: string): FuzzRequest {
  return { method, path, headers, credential, session: { kind: 'none' }, ...(body !== undefined && { body }) };
}

const authorize = (site: FuzzSite) =>
  fc
    .record({ method: method('GET'), params: authorizeParams(site), repeat: repeatParam, credential: routeCredential })
    .map(({ method, params, repeat, credential }) => request(method, `/authorize?${encodeParams(params, repeat)}`, {}, credential));

const tokenOrRevoke = (site: FuzzSite) =>
  fc
    .record({
      path: fc.constantFrom('/token', '/revoke'),
      method: method('POST'),
      form: tokenForm(site),
      repeat: repeatParam,
      headers: formHeaders,
      credential: routeCredential,
    })
    .map(({ path, method, form, repeat, headers, credential }) => request(method, path, headers, credential, encodeParams(form, repeat)));

const register = fc
  .record({
    method: method('POST'),
    body: fc.oneof(
      { arbitrary: clientMetadata.map((m) => JSON.stringify(m)), weight: 5 },
      {
        arbitrary: fc.oneof(
          fc.string({ maxLength: 40 }),
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.constant('['.repeat(10_000)),
        ),
        weight: 1,
      },
    ),
    headers: jsonHeaders,
    credential: routeCredential,
  })
  .map(({ method, body, headers, credential }) => request(method, '/register', headers, credential, body));

const browserPages = (site: FuzzSite) =>
  fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'GET', 'PUT'),
      path: fc.oneof(
        fc.constantFrom(
          '/oauth/callback',
          '/oauth/consent',
          '/oauth/services',
          '/my/tokens',
          '/my/',
          `/clients/${encodeURIComponent(site.clientId)}`,
          '/clients/',
        ),
        fc.webSegment().map((s) => `/oauth/${s}`),
        fc.webSegment().map((s) => `/my/${s}`),
        fc.webSegment().map((s) => `/clients/${s}`),
      ),
      query: fc.record(
        {
          code: anyText,
          state: anyText,
          error: fc.constantFrom('access_denied', 'server_error'),
          iss: fc.webUrl(),
          pending: anyText,
          csrf: anyText,
        },
        { requiredKeys: [] },
      ),
      form: fc.record(
        { pending: anyText, csrf: anyText, decision: fc.constantFrom('approve', 'deny', 'maybe'), server: fc.constantFrom('open', 'nope') },
        { requiredKeys: [] },
      ),
      cookie: sometimes(fc.constantFrom('__Host-gh_csrf=abc', '__Host-gh_login=x; other=y', 'a=' + 'b'.repeat(3000)), 3),
      credential: routeCredential,
    })
    .map(({ method, path, query, form, cookie, credential }) => {
      const headers = { 'content-type': 'application/x-www-form-urlencoded', ...(cookie !== undefined && { cookie }) };
      return request(method, `${path}?${encodeParams(query)}`, headers, credential, method === 'GET' ? undefined : encodeParams(form));
    });

/** The OAuth and browser routes auth answers behind the edge. */
export function oauthRequests(site: FuzzSite): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(authorize(site), tokenOrRevoke(site), register, browserPages(site));
}

const wellKnown = fc
  .record({
    method: method('GET'),
    path: fc.oneof(
      fc.constantFrom(
        '/.well-known/oauth-authorization-server',
        '/.well-known/openid-configuration',
        '/.well-known/jwks.json',
        '/.well-known/oauth-protected-resource',
        '/.well-known/oauth-protected-resource/open',
        '/.well-known/oauth-protected-resource/bearer/mcp',
        '/.well-known/oauth-protected-resource/basic/sse',
        '/.well-known/oauth-protected-resource/nope',
        '/.well-known/oauth-authorization-server/open',
      ),
      fc.webSegment().map((s) => `/.well-known/${s}`),
      fc.webSegment().map((s) => `/.well-known/oauth-protected-resource/${s}/mcp`),
    ),
  })
  .map(({ method, path }) => request(method, path, {}, none));

const probes = fc
  .record({ method: method('GET'), path: fc.constantFrom('/health', '/ready', '/health?x=1', '/ready/') })
  .map(({ method, path }) => request(method, path, {}, none));

const unknownPath = fc
  .record({
    method: fc.constantFrom(...METHODS, 'PROPFIND', 'TRACE'),
    path: fc.oneof(
      fc.webPath().map((p) => p || '/'),
      fc.constantFrom(
        '/',
        '//',
        '/%',
        '/%zz',
        '/..%2f..%2fetc/passwd',
        '/%c0%af',
        '/a?%=',
        `/${'a'.repeat(10_000)}`,
        '/open/mcp/extra',
        '/open',
      ),
      fc.webSegment().map((s) => `/${s}/mcp?${s}`),
    ),
    body: sometimes(fc.string({ maxLength: 40 }), 2),
  })
  .map(({ method, path, body }) => request(method, path, body === undefined ? {} : { 'content-type': 'application/json' }, none, body));

/** Metadata, probes and paths nobody serves. */
export const otherRequests: fc.Arbitrary<FuzzRequest> = fc.oneof(wellKnown, probes, unknownPath);
