import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { randomId } from '#crypto';
import { startStandInIdp, type StandInIdp } from '#testing';
import { createIdentityProvider } from './idp.factory.js';
import { callbackFor, codeFlowQuery, idpErrorOf, idpErrorThrownBy, logIn, newLogin, ourClient, settingsFor } from './idp-error.fixture.js';
import type { IdpSettings } from './idp-settings.js';

const CLIENT = ourClient('gatehouse');

let idp: StandInIdp;

beforeAll(async () => {
  idp = await startStandInIdp({
    users: {
      alice: { sub: 'alice-1', email: 'Alice@Example.com', email_verified: true, hd: 'example.com', groups: ['engineering', 'staff'] },
      bob: { sub: 'bob-2', email: 'bob@example.com', email_verified: false },
    },
    clients: [CLIENT],
  });
});

afterAll(async () => {
  await idp.close();
});

function settings(overrides: Partial<IdpSettings> = {}): IdpSettings {
  return settingsFor(CLIENT, { provider: 'oidc', discoveryUrl: idp.discoveryUrl, ...overrides });
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

/** A token endpoint in front of the stand-in's that flips a bit of each ID token's signature. */
async function startTokenTamperer(tokenUrl: string): Promise<{ tokenUrl: string; close: () => Promise<void> }> {
  const server = createHttpServer((req, res) => {
    void (async () => {
      const form = await text(req);
      const headers = { 'content-type': req.headers['content-type'] ?? '' };
      const upstream = await fetch(tokenUrl, { method: 'POST', headers, body: form });
      const body = z
        .object({ id_token: z.string() })
        .passthrough()
        .parse(await upstream.json());
      const [header, payload, signature = ''] = body.id_token.split('.');
      const flipped = (signature.startsWith('A') ? 'B' : 'A') + signature.slice(1);
      res.writeHead(upstream.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...body, id_token: [header, payload, flipped].join('.') }));
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return {
    tokenUrl: `http://127.0.0.1:${address.port}/token`,
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}

describe('generic OIDC provider against the stand-in IdP', () => {
  it('asks for the code flow with our state, nonce, PKCE S256 challenge and scopes', async () => {
    const login = newLogin();
    const url = await createIdentityProvider(settings()).authorizationUrl(login);
    expect(url.origin + url.pathname).toBe(idp.authorizationUrl);
    expect(Object.fromEntries(url.searchParams)).toMatchObject(codeFlowQuery(CLIENT.client_id, login));
  });

  it('turns a verified login into an Identity with the ID token claims', async () => {
    const identity = await logIn(createIdentityProvider(settings()));
    expect(identity).toEqual({
      sub: 'oidc:alice-1',
      email: 'alice@example.com',
      emailVerified: true,
      hostedDomain: 'example.com',
      groups: ['engineering', 'staff'],
      orgs: [],
    });
  });

  it('reports an unverified email as such, for the policy to refuse', async () => {
    idp.loginAs('bob');
    const identity = await logIn(createIdentityProvider(settings()));
    expect(identity).toMatchObject({ sub: 'oidc:bob-2', email: 'bob@example.com', emailVerified: false, groups: [] });
    expect(identity.hostedDomain).toBeUndefined();
  });

  it('works from explicit endpoints, discovering keys and issuer at their origin', async () => {
    const provider = createIdentityProvider(
      settings({ discoveryUrl: undefined, authorizationUrl: idp.authorizationUrl, tokenUrl: idp.tokenUrl, userInfoUrl: idp.userInfoUrl }),
    );
    const identity = await logIn(provider);
    expect(identity.sub).toBe('oidc:alice-1');
  });

  it('ends with access_denied when the user refuses at the IdP', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    idp.loginAs('deny');
    const callback = await callbackFor(provider, login);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    const err = await idpErrorOf(provider.completeLogin(callback, login));
    expect(err.code).toBe('access_denied');
  });

  it('refuses a callback whose state is not this login’s', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    const callback = await callbackFor(provider, login);
    const err = await idpErrorOf(provider.completeLogin(callback, { ...login, state: randomId() }));
    expect(err.code).toBe('idp_error');
    expect(err.message).toMatch(/does not belong/);
  });

  it('refuses a tampered code, a code redeemed twice, and a code without its PKCE verifier', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    const callback = await callbackFor(provider, login);
    const tampered = new URL(callback);
    tampered.searchParams.set('code', `${callback.searchParams.get('code')}x`);
    expect((await idpErrorOf(provider.completeLogin(tampered, login))).message).toMatch(/invalid_grant/);
    expect((await idpErrorOf(provider.completeLogin(callback, { ...login, codeVerifier: randomId(32) }))).message).toMatch(/invalid_grant/);

    const fresh = newLogin();
    const good = await callbackFor(provider, fresh);
    await provider.completeLogin(good, fresh);
    expect((await idpErrorOf(provider.completeLogin(good, fresh))).code).toBe('idp_error');
  });

  it('refuses an ID token minted for another nonce', async () => {
    const provider = createIdentityProvider(settings());
    const login = newLogin();
    const callback = await callbackFor(provider, login);
    const err = await idpErrorOf(provider.completeLogin(callback, { ...login, nonce: randomId() }));
    expect(err.code).toBe('idp_error');
    expect(err.message).toMatch(/failed validation/);
  });

  it('refuses an ID token whose signature does not verify against the IdP’s JWKS', async () => {
    const tampering = await startTokenTamperer(idp.tokenUrl);
    try {
      const provider = createIdentityProvider(settings({ tokenUrl: tampering.tokenUrl }));
      const login = newLogin();
      const err = await idpErrorOf(provider.completeLogin(await callbackFor(provider, login), login));
      expect(err).toMatchObject({ code: 'idp_error', message: expect.stringMatching(/failed validation/) });
    } finally {
      await tampering.close();
    }
  });

  it('fails with idp_error when the client secret is wrong, without echoing it', async () => {
    const provider = createIdentityProvider(settings({ clientSecret: 'not-the-secret' }));
    const login = newLogin();
    const err = await idpErrorOf(provider.completeLogin(await callbackFor(provider, login), login));
    expect(err.message).toMatch(/invalid_client/);
    expect(err.message).not.toContain('not-the-secret');
  });

  it('fails with idp_error when the IdP cannot be reached, and misconfigured when the discovery URL is not OpenID', async () => {
    const unreachable = createIdentityProvider(
      settings({ discoveryUrl: `http://127.0.0.1:${await closedPort()}/.well-known/openid-configuration` }),
    );
    expect((await idpErrorOf(unreachable.authorizationUrl(newLogin()))).code).toBe('idp_error');
    const wrong = createIdentityProvider(settings({ discoveryUrl: `${idp.issuer}/nothing-here` }));
    expect((await idpErrorOf(wrong.authorizationUrl(newLogin()))).code).toBe('misconfigured');
  });

  it('refuses plain http outside dev mode, and off loopback even in dev mode', () => {
    expect(idpErrorThrownBy(() => createIdentityProvider(settings({ devMode: false })))).toMatchObject({ code: 'misconfigured' });
    const remote = settings({ discoveryUrl: 'http://idp.example.test/.well-known/openid-configuration' });
    expect(idpErrorThrownBy(() => createIdentityProvider(remote))).toMatchObject({ code: 'misconfigured' });
  });

  it('serves Azure/Entra wiring too: tenant "common" admits the account, but not its email as verified', async () => {
    const identity = await logIn(createIdentityProvider(settings({ provider: 'azure', tenantId: 'common' })));
    expect(identity).toEqual({
      sub: 'azure:alice-1',
      email: 'alice@example.com',
      emailVerified: false,
      groups: ['engineering', 'staff'],
      orgs: [],
    });
  });
});
