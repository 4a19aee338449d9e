import { authorizeInBrowser, pkce, ScriptedBrowser, type TopologyKind } from '#testing';
import { CLIENT_REDIRECT, mcpStatus, refusedWithin, SERVICE_TOKEN, startOAuthGateway, type OAuthGateway } from './support/oauth-gateway.js';

let gw: OAuthGateway;
let clientId: string;

async function register(body: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${gw.baseURL}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'negative e2e', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none', ...body }),
  });
  const json = (await res.json()) as { client_id?: string };
  if (res.status !== 201 || !json.client_id) throw new Error(`registration failed: ${res.status} ${JSON.stringify(json)}`);
  return json.client_id;
}

function authorizeUrl(params: Record<string, string | undefined>): URL {
  const url = new URL(`${gw.baseURL}/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.append(k, v);
  return url;
}

function validParams(challenge: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CLIENT_REDIRECT,
    state: 'state-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: `${gw.baseURL}/everything`,
    ...extra,
  };
}

/** Logs `user` in and returns the code with its verifier. */
async function codeFor(user: string, extra: Record<string, string | undefined> = {}): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  gw.idp.loginAs(user);
  const stop = await authorizeInBrowser(new ScriptedBrowser(), authorizeUrl(validParams(challenge, extra)), CLIENT_REDIRECT);
  const code = stop.kind === 'redirect' ? stop.url.searchParams.get('code') : null;
  if (!code) throw new Error(`no code: ${JSON.stringify(stop).slice(0, 500)}`);
  return { code, verifier };
}

async function token(form: Record<string, string>): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${gw.baseURL}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** The reuse grace window of this suite's gateways: short, so a replay after it can be shown. */
const REUSE_GRACE_MS = 2_000;

/** Resolves once the grace window that opened at `since` has closed; it is wall-clock time, so there is nothing to poll. */
async function windowPassed(since: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, since + REUSE_GRACE_MS + 200 - Date.now()));
}

async function exchange(code: string, verifier: string, redirectUri = CLIENT_REDIRECT) {
  return token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirectUri, client_id: clientId });
}

// Both topologies: revocations then cross NATS to a separate edge, and records land in PostgreSQL.
describe.each<TopologyKind>(['all-in-one', 'distributed'])('OAuth refusals (%s, under a base path)', (kind) => {
  beforeAll(async () => {
    // Under a base path, which prefixes every route, the issuer and the resource URIs.
    gw = await startOAuthGateway(kind, { basePath: '/gw', auth: { refreshTokenReuseGrace: `${REUSE_GRACE_MS}ms` } });
    clientId = await register();
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it('publishes metadata that MCP clients rely on', async () => {
    const meta = (await (await fetch(`${gw.baseURL}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({
      issuer: gw.baseURL,
      code_challenge_methods_supported: ['S256'],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
      registration_endpoint: `${gw.baseURL}/register`,
      revocation_endpoint: `${gw.baseURL}/revoke`,
    });
    const oidc = (await (await fetch(`${gw.baseURL}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(oidc.issuer).toBe(gw.baseURL);
    for (const path of ['everything', 'everything/mcp', 'everything/sse']) {
      const prm = (await (await fetch(`${gw.baseURL}/.well-known/oauth-protected-resource/${path}`)).json()) as Record<string, unknown>;
      expect(prm).toMatchObject({ resource: `${gw.baseURL}/everything`, authorization_servers: [gw.baseURL] });
    }
    const challenge = (await mcpStatus(gw.baseURL, 'everything', '')).challenge;
    expect(challenge).toContain(`resource_metadata="${gw.baseURL}/.well-known/oauth-protected-resource/everything"`);
    expect(challenge).toContain('scope="mcp"');
  });

  it('shows a page, never a redirect, for an unregistered client or a wrong redirect URI', async () => {
    const { challenge } = pkce();
    for (const params of [
      validParams(challenge, { client_id: 'no-such-client' }),
      validParams(challenge, { redirect_uri: 'https://evil.test/cb' }),
    ]) {
      const res = await fetch(authorizeUrl(params), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(await res.text()).toContain('cannot continue');
    }
  });

  it('shows errors for an https redirect URI on a page with a link, not as a redirect (no open redirector)', async () => {
    const webClient = await register({ redirect_uris: ['https://app.example.test/callback'] });
    const { challenge } = pkce();
    const params = validParams(challenge, {
      client_id: webClient,
      redirect_uri: 'https://app.example.test/callback',
      response_type: 'token',
    });
    const res = await fetch(authorizeUrl(params), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    const link = /href="([^"]+)"/.exec(await res.text())?.[1]?.replace(/&amp;/g, '&') ?? '';
    expect(new URL(link).searchParams.get('error')).toBe('unsupported_response_type');
    expect(link.startsWith('https://app.example.test/callback?')).toBe(true);
  });

  it.each([
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no PKCE', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
    ['missing state', { state: undefined }, 'invalid_request'],
    ['an unknown resource', { resource: 'https://elsewhere.test/db' }, 'invalid_target'],
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type'],
  ])('sends %s back to the client as an OAuth error with iss', async (_name, extra, error) => {
    const { challenge } = pkce();
    const res = await fetch(authorizeUrl(validParams(challenge, extra)), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.href.startsWith(CLIENT_REDIRECT)).toBe(true);
    expect(location.searchParams.get('error')).toBe(error);
    expect(location.searchParams.get('iss')).toBe(gw.baseURL);
  });

  it('refuses a wrong verifier, a wrong redirect URI, and a replayed code (revoking what it issued)', async () => {
    const wrongVerifier = await codeFor('alice');
    expect(await exchange(wrongVerifier.code, pkce().verifier)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });

    const wrongRedirect = await codeFor('alice');
    expect(await exchange(wrongRedirect.code, wrongRedirect.verifier, 'http://127.0.0.1:9/other')).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    });

    const { code, verifier } = await codeFor('alice');
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const accessToken = String(first.json.access_token);
    expect((await mcpStatus(gw.baseURL, 'everything', `Bearer ${accessToken}`)).status).toBe(200);
    expect(await exchange(code, verifier)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    await refusedWithin(gw.baseURL, 1000, accessToken);
    expect(
      await token({ grant_type: 'refresh_token', refresh_token: String(first.json.refresh_token), client_id: clientId }),
    ).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    });
  });

  it('gives two concurrent refreshes with one token the same successor, and keeps the grant', async () => {
    const { code, verifier } = await codeFor('alice');
    const issued = await exchange(code, verifier);
    const refresh = () => token({ grant_type: 'refresh_token', refresh_token: String(issued.json.refresh_token), client_id: clientId });
    const [a, b] = await Promise.all([refresh(), refresh()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json.refresh_token).toBe(b.json.refresh_token);
    expect(a.json.refresh_token).not.toBe(issued.json.refresh_token);
    expect(a.json.access_token).not.toBe(b.json.access_token);
    for (const accessToken of [issued.json.access_token, a.json.access_token, b.json.access_token]) {
      expect((await mcpStatus(gw.baseURL, 'everything', `Bearer ${String(accessToken)}`)).status).toBe(200);
    }
    const next = await token({ grant_type: 'refresh_token', refresh_token: String(a.json.refresh_token), client_id: clientId });
    expect(next.status).toBe(200);
  });

  it('revokes the whole family when a spent refresh token comes back after the grace window', async () => {
    const { code, verifier } = await codeFor('alice');
    const issued = await exchange(code, verifier);
    const spent = String(issued.json.refresh_token);
    const rotated = await token({ grant_type: 'refresh_token', refresh_token: spent, client_id: clientId });
    const rotatedAt = Date.now();
    expect(rotated.status).toBe(200);
    expect(rotated.json.refresh_token).not.toBe(spent);
    const repeated = await token({ grant_type: 'refresh_token', refresh_token: spent, client_id: clientId });
    expect([repeated.status, repeated.json.refresh_token]).toEqual([200, rotated.json.refresh_token]);

    await windowPassed(rotatedAt);
    expect(await token({ grant_type: 'refresh_token', refresh_token: spent, client_id: clientId })).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    });
    expect(
      await token({ grant_type: 'refresh_token', refresh_token: String(rotated.json.refresh_token), client_id: clientId }),
    ).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    });
    await refusedWithin(gw.baseURL, 1000, String(rotated.json.access_token));
  });

  it('lets no other client consume a refresh token: it stays valid for its owner', async () => {
    const otherClient = await register({ client_name: 'another client' });
    const { code, verifier } = await codeFor('alice');
    const issued = await exchange(code, verifier);
    const refreshToken = String(issued.json.refresh_token);
    expect(await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: otherClient })).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    });
    const own = await token({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
    expect(own.status).toBe(200);
    expect(own.json.refresh_token).not.toBe(refreshToken);
    expect((await mcpStatus(gw.baseURL, 'everything', `Bearer ${String(issued.json.access_token)}`)).status).toBe(200);
    expect((await mcpStatus(gw.baseURL, 'everything', `Bearer ${String(own.json.access_token)}`)).status).toBe(200);
  });

  it('denies a user outside the allowed domains and an unverified email, telling the client access_denied', async () => {
    for (const user of ['eve', 'mallory']) {
      const { challenge } = pkce();
      gw.idp.loginAs(user);
      const browser = new ScriptedBrowser();
      const stop = await authorizeInBrowser(browser, authorizeUrl(validParams(challenge)), CLIENT_REDIRECT);
      if (stop.kind !== 'page') throw new Error(`expected a page, got ${stop.url.href}`);
      expect(stop.status).toBe(403);
      expect(stop.html).toContain('Access denied');
      const back = /href="([^"]+)"/.exec(stop.html)?.[1]?.replace(/&amp;/g, '&');
      const location = new URL(back ?? '');
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('state')).toBe('state-123');
    }
  });

  it('lets the user pick servers when the client names no resource, and binds the token to that choice', async () => {
    const { verifier, challenge } = pkce();
    gw.idp.loginAs('alice');
    const stop = await authorizeInBrowser(
      new ScriptedBrowser(),
      authorizeUrl(validParams(challenge, { resource: undefined })),
      CLIENT_REDIRECT,
      {
        servers: ['other'],
      },
    );
    const code = stop.kind === 'redirect' ? stop.url.searchParams.get('code') : null;
    const issued = await exchange(code ?? '', verifier);
    expect(issued.status).toBe(200);
    const bearer = `Bearer ${String(issued.json.access_token)}`;
    expect((await mcpStatus(gw.baseURL, 'other', bearer)).status).toBe(200);
    expect((await mcpStatus(gw.baseURL, 'everything', bearer)).status).toBe(401);
  });

  it('refuses tampered, unsigned and revoked tokens; accepts service tokens beside OAuth', async () => {
    const { code, verifier } = await codeFor('alice', { resource: `${gw.baseURL}/mixed` });
    const issued = await exchange(code, verifier);
    const accessToken = String(issued.json.access_token);
    const [header = '', payload = '', signature = ''] = accessToken.split('.');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    const forged = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const widened = `${header}.${Buffer.from(JSON.stringify({ ...forged, aud: [`${gw.baseURL}/everything`] })).toString('base64url')}.${signature}`;
    for (const bad of [`${header}.${payload}.${flipped}`, unsigned, widened]) {
      const { status, challenge } = await mcpStatus(gw.baseURL, 'mixed', `Bearer ${bad}`);
      expect(status).toBe(401);
      expect(challenge).toContain('error="invalid_token"');
    }
    expect((await mcpStatus(gw.baseURL, 'mixed', `Bearer ${SERVICE_TOKEN}`)).status).toBe(200);
    expect((await mcpStatus(gw.baseURL, 'mixed', `Bearer ${accessToken}`)).status).toBe(200);

    const revoke = await fetch(`${gw.baseURL}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: accessToken, client_id: clientId }).toString(),
    });
    expect(revoke.status).toBe(200);
    await refusedWithin(gw.baseURL, 1000, accessToken);
  });

  it('authenticates a confidential client with client_secret_basic or _post, and refuses a wrong secret', async () => {
    const res = await fetch(`${gw.baseURL}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'confidential e2e', redirect_uris: [CLIENT_REDIRECT] }),
    });
    const registered = (await res.json()) as { client_id: string; client_secret: string; token_endpoint_auth_method: string };
    expect(res.status).toBe(201);
    expect(registered.token_endpoint_auth_method).toBe('client_secret_basic');
    const described = (await (await fetch(`${gw.baseURL}/clients/${registered.client_id}`)).json()) as Record<string, unknown>;
    expect(described).toMatchObject({ client_id: registered.client_id, client_name: 'confidential e2e' });
    expect(described).not.toHaveProperty('client_secret');

    const viaBasic = async (secret: string, { code, verifier }: { code: string; verifier: string }) =>
      fetch(`${gw.baseURL}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${registered.client_id}:${secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          code_verifier: verifier,
          redirect_uri: CLIENT_REDIRECT,
        }).toString(),
      });
    const loginAs = async () => codeFor('alice', { client_id: registered.client_id });
    const wrong = await viaBasic('not-the-secret', await loginAs());
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Basic');
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' });
    const good = await viaBasic(registered.client_secret, await loginAs());
    expect(good.status).toBe(200);

    const posted = await loginAs();
    const viaPost = await token({
      grant_type: 'authorization_code',
      code: posted.code,
      code_verifier: posted.verifier,
      redirect_uri: CLIENT_REDIRECT,
      client_id: registered.client_id,
      client_secret: registered.client_secret,
    });
    expect(viaPost.status).toBe(200);
    const withoutSecret = await loginAs();
    const form = {
      grant_type: 'authorization_code',
      code: withoutSecret.code,
      code_verifier: withoutSecret.verifier,
      redirect_uri: CLIENT_REDIRECT,
    };
    expect(await token({ ...form, client_id: registered.client_id })).toMatchObject({ status: 401, json: { error: 'invalid_client' } });
    // The code is spent by that attempt; another client's does not work for this one either.
    const others = await codeFor('alice');
    expect(
      await token({
        ...form,
        code: others.code,
        code_verifier: others.verifier,
        client_id: registered.client_id,
        client_secret: registered.client_secret,
      }),
    ).toMatchObject({
      status: 400,
      json: { error: 'invalid_grant' },
    });
  });

  it('refuses NUL characters (which PostgreSQL cannot store) with 400 before they reach the database', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const cases: [string, RequestInit][] = [
      ['/clients/%00', { method: 'GET' }],
      ['/authorize?client_id=%00', { method: 'GET' }],
      ['/token', { method: 'POST', headers: form, body: 'grant_type=refresh_token&refresh_token=x&client_id=%00' }],
      ['/oauth/consent', { method: 'POST', headers: form, body: 'pending=%00&csrf=x' }],
      [
        '/register',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"redirect_uris":["http://127.0.0.1/cb"],"scope":"\\u0000"}',
        },
      ],
    ];
    for (const [path, init] of cases) {
      const res = await fetch(`${gw.baseURL}${path}`, { ...init, redirect: 'manual' });
      expect([path, res.status, await res.text()]).toEqual([path, 400, expect.stringContaining('NUL')]);
    }
  });

  it('answers malformed token and registration requests with 4xx, never 500', async () => {
    const cases: [string, RequestInit][] = [
      ['/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
      ['/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password' }],
      [
        '/token',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: `grant_type=authorization_code&client_id=${clientId}`,
        },
      ],
      [
        '/token',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic !!!' },
          body: 'grant_type=refresh_token',
        },
      ],
      ['/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"redirect_uris":["javascript:alert(1)"]}' }],
      ['/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' }],
      [
        '/register',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"redirect_uris":["http://example.com/cb"]}' },
      ],
      ['/revoke', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' }],
      ['/clients/nope', { method: 'GET' }],
      ['/oauth/callback?state=nope&code=x', { method: 'GET' }],
      ['/oauth/consent', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'pending=x&csrf=y' }],
    ];
    for (const [path, init] of cases) {
      const res = await fetch(`${gw.baseURL}${path}`, { ...init, redirect: 'manual' });
      await res.body?.cancel();
      expect([path, res.status >= 400 && res.status < 500]).toEqual([path, true]);
    }
  });

  it('refuses JSON nested 10,000 levels deep with 400 and the OAuth error, logging no error', async () => {
    const marks = gw.gateway.all.map((p) => p.output().length);
    const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const json = { 'content-type': 'application/json' };
    const cases: [string, string, string][] = [
      ['/register', deep(10_000), 'invalid_client_metadata'],
      ['/register', `{"redirect_uris":["${CLIENT_REDIRECT}"],"software_statement":${deep(10_000)}}`, 'invalid_client_metadata'],
      ['/token', deep(10_000), 'invalid_request'],
    ];
    for (const [path, body, error] of cases) {
      const res = await fetch(`${gw.baseURL}${path}`, { method: 'POST', headers: json, body });
      expect([path, res.status, await res.json()]).toEqual([path, 400, { error, error_description: expect.stringContaining('64 levels') }]);
    }
    // Auth logs each registration: once this one's line is out, any error logged before it is too.
    const marker = await register({ client_name: 'after deep JSON' });
    const auth = gw.gateway.all.find((p) => p.args[0] === 'auth' || p.args[0] === 'serve');
    await auth?.waitFor(new RegExp(`"clientId":"${marker}"`));
    const errors = gw.gateway.all.flatMap((p, i) =>
      p
        .output()
        .slice(marks[i])
        .split('\n')
        .filter((line) => /"level":(50|60)/.test(line)),
    );
    expect(errors).toEqual([]);
  });
});
