import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, pkce, startOAuthTopology, type OAuthTopology, type StandInUser } from '#testing';
import { launchChromium } from './support/chromium.js';
import { EVERYTHING } from './support/gateway-config.js';
import { mcpStatus, refusedWithin } from './support/oauth-gateway.js';

type OAuthGateway = OAuthTopology;

/** Live: the stand-in IdP reads it at every login and refresh, so a person can be removed. */
const USERS: Record<string, StandInUser> = {
  alice: { sub: 'alice', email: 'alice@example.com', email_verified: true, hd: 'example.com' },
  bob: { sub: 'bob', email: 'bob@example.com', email_verified: true, hd: 'example.com' },
};

const SHOTS = 'docs/screenshots';
/** Codes that reached the client's loopback listener, as a native MCP client runs one. */
const codes: string[] = [];
let CLIENT_REDIRECT = '';

async function listenAsClient(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://client.invalid');
    // Chromium asks for /favicon.ico too.
    if (url.pathname === '/callback') codes.push(url.searchParams.get('code') ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('the client got its answer');
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  CLIENT_REDIRECT = `http://127.0.0.1:${port}/callback`;
  return server;
}
const SESSION_COOKIE = 'gh-session';

/** A client registered as an MCP client would (RFC 7591), and its /authorize URL for `everything`. */
async function registerClient(
  gw: OAuthGateway,
  name: string,
): Promise<{ clientId: string; authorizeUrl(): { url: string; verifier: string } }> {
  const res = await fetch(`${gw.baseURL}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [CLIENT_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    }),
  });
  const { client_id: clientId } = (await res.json()) as { client_id: string };
  return {
    clientId,
    authorizeUrl: () => {
      const { verifier, challenge } = pkce();
      const url = new URL(`${gw.baseURL}/authorize`);
      const params = {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: CLIENT_REDIRECT,
        state: randomBytes(8).toString('hex'),
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: `${gw.baseURL}/everything`,
      };
      for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
      return { url: url.href, verifier };
    },
  };
}

/** A person's browser, and every URL it asked for. */
async function personBrowser(browser: Browser): Promise<{ context: BrowserContext; page: Page; asked: string[] }> {
  const context = await browser.newContext();
  const asked: string[] = [];
  context.on('request', (request) => asked.push(request.url()));
  return { context, page: await context.newPage(), asked };
}

async function token(gw: OAuthGateway, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${gw.baseURL}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function exchange(gw: OAuthGateway, clientId: string, code: string, verifier: string): Promise<{ access: string; refresh: string }> {
  const form = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: CLIENT_REDIRECT, client_id: clientId };
  const { body } = await token(gw, form);
  if (typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string')
    throw new Error(`no tokens: ${JSON.stringify(body)}`);
  return { access: body.access_token, refresh: body.refresh_token };
}

describe("the person's pages and the browser session, in Chromium (all-in-one)", () => {
  let gw: OAuthGateway;
  let browser: Browser;
  let client: Awaited<ReturnType<typeof registerClient>>;
  let alice: Awaited<ReturnType<typeof personBrowser>>;
  let accessToken: string;
  let clientListener: Server;

  beforeAll(async () => {
    clientListener = await listenAsClient();
    const mcpServers = { everything: { transportType: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'] } };
    [gw, browser] = await Promise.all([
      startOAuthTopology('all-in-one', { users: USERS, mcpServers, idpRefreshTokens: true }),
      launchChromium(),
    ]);
    client = await registerClient(gw, 'Claude Code (e2e)');
    alice = await personBrowser(browser);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    clientListener?.close();
  });

  const idpAsked = (asked: string[]) => asked.filter((url) => url.startsWith(gw.idp.issuer));

  it('logs in through the consent page and the identity provider, and sets the browser session cookie', async () => {
    gw.idp.loginAs('alice');
    const { url, verifier } = client.authorizeUrl();
    await alice.page.goto(url);
    await alice.page.screenshot({ path: `${SHOTS}/consent.png`, fullPage: true });
    await alice.page.getByRole('button', { name: 'Allow and sign in' }).click();
    await alice.page.waitForURL(`${CLIENT_REDIRECT}**`);
    expect(idpAsked(alice.asked).length).toBeGreaterThan(0);
    accessToken = (await exchange(gw, client.clientId, codes.at(-1) ?? '', verifier)).access;
    expect((await mcpStatus(gw.baseURL, 'everything', `Bearer ${accessToken}`)).status).toBe(200);
    const session = (await alice.context.cookies()).find((c) => c.name === SESSION_COOKIE);
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
  });

  it('skips the identity provider and the consent page at the second /authorize', async () => {
    alice.asked.length = 0;
    const before = codes.length;
    const answer = await alice.page.goto(client.authorizeUrl().url);
    expect(alice.page.url().startsWith(CLIENT_REDIRECT)).toBe(true);
    expect(answer?.request().redirectedFrom()?.url()).toContain('/authorize');
    expect(idpAsked(alice.asked)).toEqual([]);
    expect(alice.asked.filter((u) => u.includes('/oauth/consent'))).toEqual([]);
    expect(codes.length).toBe(before + 1);
  });

  it('shows the person their pages: credentials and the applications they authorized, under the gateway name', async () => {
    await alice.page.goto(`${gw.baseURL}/my/tokens`);
    expect(await alice.page.title()).toBe('Your tokens · test gateway');
    expect(await alice.page.locator('body').innerText()).toContain('Signed in as alice@example.com');
    const app = alice.page.getByRole('listitem').filter({ hasText: 'Claude Code (e2e)' });
    expect(await app.innerText()).toMatch(/Claude Code \(e2e\): everything, since \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    await alice.page.screenshot({ path: `${SHOTS}/tokens.png`, fullPage: true });
  });

  it('starts a fresh login for a tampered session cookie, never an error page', async () => {
    const [session] = (await alice.context.cookies()).filter((c) => c.name === SESSION_COOKIE);
    if (!session) throw new Error('no session cookie');
    const at = session.value.length - 30;
    const tampered = session.value.slice(0, at) + (session.value[at] === 'A' ? 'B' : 'A') + session.value.slice(at + 1);
    const other = await personBrowser(browser);
    try {
      await other.context.addCookies([{ ...session, value: tampered }]);
      // At /authorize: the consent page, as for anyone not signed in.
      await other.page.goto(client.authorizeUrl().url);
      expect(await other.page.getByRole('button', { name: 'Allow and sign in' }).count()).toBe(1);
      gw.idp.loginAs('alice');
      const answer = await other.page.goto(`${gw.baseURL}/my/tokens`);
      expect(answer?.status()).toBe(200);
      expect(idpAsked(other.asked).length).toBeGreaterThan(0);
      expect(other.page.url()).toBe(`${gw.baseURL}/my/tokens`);
      const fresh = (await other.context.cookies()).find((c) => c.name === SESSION_COOKIE);
      expect(fresh?.value).not.toBe(tampered);
    } finally {
      await other.context.close();
    }
  });

  it("keeps another person's cookie and CSRF token from reading or changing the first person's page", async () => {
    const bob = await personBrowser(browser);
    try {
      gw.idp.loginAs('bob');
      await bob.page.goto(`${gw.baseURL}/my/tokens`);
      const text = await bob.page.locator('body').innerText();
      expect(text).toContain('Signed in as bob@example.com');
      expect(text).not.toContain('Claude Code (e2e)');
      await alice.page.goto(`${gw.baseURL}/my/tokens`);
      const aliceCsrf = await alice.page.locator('input[name="csrf"]').first().getAttribute('value');
      const bobCsrf = await bob.page.locator('input[name="csrf"]').first().getAttribute('value');
      expect(aliceCsrf).not.toBe(bobCsrf);
      const revoke = (csrf: string | null) =>
        bob.context.request.post(`${gw.baseURL}/my/applications/revoke`, {
          form: { csrf: csrf ?? '', client: client.clientId },
          maxRedirects: 0,
        });
      // Alice's token with Bob's cookie: refused. Bob's own token: nothing of Bob's to revoke.
      expect((await revoke(aliceCsrf)).status()).toBe(403);
      expect((await revoke(bobCsrf)).status()).toBe(404);
      // Without any session cookie, Alice's token is no use either.
      const anonymous = await browser.newContext();
      const bare = await anonymous.request.post(`${gw.baseURL}/my/applications/revoke`, {
        form: { csrf: aliceCsrf ?? '', client: client.clientId },
        maxRedirects: 0,
      });
      expect(bare.status()).toBe(403);
      await anonymous.close();
      expect((await mcpStatus(gw.baseURL, 'everything', `Bearer ${accessToken}`)).status).toBe(200);
    } finally {
      await bob.context.close();
    }
  });

  it('answers an unknown service with a clear page and a 404', async () => {
    const answer = await alice.page.goto(`${gw.baseURL}/oauth/connect?service=nope`);
    expect(answer?.status()).toBe(404);
    expect(await alice.page.locator('h1').innerText()).toBe('No such service');
    await alice.page.screenshot({ path: `${SHOTS}/unknown-service.png`, fullPage: true });
  });

  it('revokes an application with the keyboard only; its access token is refused at once', async () => {
    await alice.page.goto(`${gw.baseURL}/my/tokens`);
    let focused = '';
    for (let tabs = 0; tabs < 20 && focused !== 'Revoke Claude Code (e2e)'; tabs += 1) {
      await alice.page.keyboard.press('Tab');
      focused = await alice.page.evaluate<string>("document.activeElement?.textContent ?? ''");
    }
    expect(focused).toBe('Revoke Claude Code (e2e)');
    // Focus is visible: the focused button draws an outline.
    expect(await alice.page.evaluate<string>('getComputedStyle(document.activeElement).outlineStyle')).toBe('solid');
    await alice.page.keyboard.press('Enter');
    await alice.page.waitForURL(`${gw.baseURL}/my/tokens?notice=revoked`);
    expect(await alice.page.getByRole('status').innerText()).toBe('The application can no longer use your access.');
    expect(await alice.page.locator('body').innerText()).toContain('No application can use your access.');
    await alice.page.screenshot({ path: `${SHOTS}/tokens-revoked.png`, fullPage: true });
    await refusedWithin(gw.baseURL, 5_000, accessToken);
    // Its consent is forgotten with it: the next /authorize asks again (the session still spares the IdP).
    alice.asked.length = 0;
    await alice.page.goto(client.authorizeUrl().url);
    expect(await alice.page.getByRole('button', { name: 'Allow', exact: true }).count()).toBe(1);
    expect(idpAsked(alice.asked)).toEqual([]);
  });

  it('signs out with the button (POST, CSRF-protected); the next page goes to the identity provider', async () => {
    await alice.page.goto(`${gw.baseURL}/my/tokens`);
    await alice.page.getByRole('button', { name: 'Sign out' }).click();
    expect(await alice.page.locator('h1').innerText()).toBe('Signed out');
    await alice.page.screenshot({ path: `${SHOTS}/signed-out.png`, fullPage: true });
    expect((await alice.context.cookies()).find((c) => c.name === SESSION_COOKIE)).toBeUndefined();
    alice.asked.length = 0;
    gw.idp.loginAs('alice');
    await alice.page.goto(`${gw.baseURL}/my/tokens`);
    expect(idpAsked(alice.asked).length).toBeGreaterThan(0);
  });

  it('ends the access of a person removed at the identity provider at their next refresh', async () => {
    const other = await registerClient(gw, 'Cursor (e2e)');
    await alice.page.context().clearCookies();
    gw.idp.loginAs('alice');
    const { url, verifier } = other.authorizeUrl();
    await alice.page.goto(url);
    await alice.page.getByRole('button', { name: 'Allow and sign in' }).click();
    await alice.page.waitForURL(`${CLIENT_REDIRECT}**`);
    const tokens = await exchange(gw, other.clientId, codes.at(-1) ?? '', verifier);
    const refresh = (refreshToken: string) =>
      token(gw, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: other.clientId });
    // Still there: the identity provider vouches for her, and the refresh goes through.
    const renewed = await refresh(tokens.refresh);
    expect(renewed.status).toBe(200);
    delete USERS.alice;
    const refused = await refresh(String(renewed.body.refresh_token));
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    await refusedWithin(gw.baseURL, 5_000, String(renewed.body.access_token));
  });
});
