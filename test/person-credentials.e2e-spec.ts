import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, startOAuthTopology, startStandInIdp, type OAuthTopology, type StandInIdp } from '#testing';
import { launchChromium } from './support/chromium.js';
import { EVERYTHING } from './support/gateway-config.js';

const SHOTS = 'docs/screenshots';
const UPSTREAM_CLIENT = { id: 'gatehouse-at-linear', secret: 'linear-client-secret-0123456789' };
const USERS = {
  alice: { sub: 'alice', email: 'alice@example.com', email_verified: true, hd: 'example.com' },
  bob: { sub: 'bob', email: 'bob@example.com', email_verified: true, hd: 'example.com' },
};
const stdio = { transportType: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'] };

/** Gatehouse with a `manual` server (Notion) and an `oauth` one (Linear) whose authorization server is a second oidc-provider. */
async function startGatewayWithCredentials(): Promise<{ gw: OAuthTopology; linear: StandInIdp }> {
  const port = await freePort();
  const linear = await startStandInIdp({
    users: { 'alice-at-linear': { sub: 'alice-at-linear', email: 'alice@linear.test', email_verified: true } },
    clients: [
      {
        client_id: UPSTREAM_CLIENT.id,
        client_secret: UPSTREAM_CLIENT.secret,
        redirect_uris: [`http://127.0.0.1:${port}/oauth/callback/linear`],
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
    upstream: { refreshTokens: true, revocation: true },
  });
  const mcpServers = {
    everything: stdio,
    notion: {
      ...stdio,
      env: { NOTION_TOKEN: { $userToken: '{{token}}' } },
      requiresUserToken: true,
      userAuthentication: {
        type: 'manual',
        displayName: 'Notion',
        instructions: 'Create an internal integration and paste its secret.',
        helpUrl: 'https://www.notion.so/my-integrations',
        validation: '^secret_[A-Za-z0-9]{8,}$',
      },
    },
    linear: {
      ...stdio,
      env: { LINEAR_TOKEN: { $userToken: 'Bearer {{token}}' } },
      requiresUserToken: true,
      userAuthentication: {
        type: 'oauth',
        displayName: 'Linear',
        clientId: UPSTREAM_CLIENT.id,
        clientSecret: { $env: 'LINEAR_CLIENT_SECRET' },
        authorizationUrl: linear.authorizationUrl,
        tokenUrl: linear.tokenUrl,
        scopes: ['openid'],
      },
    },
  };
  try {
    const gw = await startOAuthTopology('all-in-one', {
      users: USERS,
      mcpServers,
      port,
      env: { LINEAR_CLIENT_SECRET: UPSTREAM_CLIENT.secret },
    });
    return { gw, linear };
  } catch (err) {
    await linear.close();
    throw err;
  }
}

async function signedIn(browser: Browser, gw: OAuthTopology, who: keyof typeof USERS): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  gw.idp.loginAs(who);
  await page.goto(`${gw.baseURL}/my/tokens`);
  if (!(await page.locator('body').innerText()).includes(`Signed in as ${USERS[who].email}`)) throw new Error(`${who} is not signed in`);
  return { context, page };
}

const statusOf = (page: Page, server: string) => page.locator(`section[aria-labelledby="server-${server}"] .status`).innerText();
const focusedId = (page: Page) => page.evaluate<string>("document.activeElement?.id ?? ''");

describe("a person's service credentials on their pages, in Chromium (all-in-one)", () => {
  let gw: OAuthTopology;
  let linear: StandInIdp;
  let browser: Browser;
  let alice: { context: BrowserContext; page: Page };

  beforeAll(async () => {
    [{ gw, linear }, browser] = await Promise.all([startGatewayWithCredentials(), launchChromium()]);
    alice = await signedIn(browser, gw, 'alice');
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    await linear?.close();
  });

  it('shows each server that needs a credential, with the instructions, help link and connect link', async () => {
    const { page } = alice;
    expect(await statusOf(page, 'notion')).toBe('Not connected');
    expect(await statusOf(page, 'linear')).toBe('Not connected');
    expect(await page.getByText('Create an internal integration and paste its secret.').count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Where to find it' }).getAttribute('href')).toBe('https://www.notion.so/my-integrations');
    expect(await page.getByRole('link', { name: 'Connect Linear' }).getAttribute('href')).toBe('/oauth/connect?service=linear');
    expect(await page.locator('section[aria-labelledby="server-everything"]').count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}/tokens-credentials.png`, fullPage: true });
  });

  it('sets a manual token with the keyboard only: an invalid one refused with the message, a valid one stored', async () => {
    const { page } = alice;
    const tabTo = async (id: string) => {
      for (let tabs = 0; tabs < 15 && (await focusedId(page)) !== id; tabs += 1) await page.keyboard.press('Tab');
      expect(await focusedId(page)).toBe(id);
    };
    await page.goto(`${gw.baseURL}/my/tokens`);
    await tabTo('token-notion');
    expect(await page.getByLabel('Token for Notion').getAttribute('id')).toBe('token-notion');
    await page.keyboard.type('not-a-notion-secret');
    await Promise.all([page.waitForURL(`${gw.baseURL}/my/tokens/set`), page.keyboard.press('Enter')]);
    const alert = await page.getByRole('alert').innerText();
    expect(alert).toMatch(/Notion/);
    expect(await page.content()).not.toContain('not-a-notion-secret');
    expect(await statusOf(page, 'notion')).toBe('Not connected');
    await page.screenshot({ path: `${SHOTS}/token-refused.png`, fullPage: true });

    // The refused field has the focus again, so the person types the right token at once.
    expect(await focusedId(page)).toBe('token-notion');
    await page.keyboard.type('secret_abcdefgh1234');
    await Promise.all([page.waitForURL(`${gw.baseURL}/my/tokens?notice=saved`), page.keyboard.press('Enter')]);
    expect(await statusOf(page, 'notion')).toMatch(/^Connected since \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await page.screenshot({ path: `${SHOTS}/token-saved.png`, fullPage: true });
  });

  it("keeps another person's cookie and CSRF token away from the first person's credentials", async () => {
    const bob = await signedIn(browser, gw, 'bob');
    try {
      expect(await statusOf(bob.page, 'notion')).toBe('Not connected');
      const aliceCsrf = await alice.page.locator('input[name="csrf"]').first().getAttribute('value');
      const attempt = await bob.context.request.post(`${gw.baseURL}/my/tokens/delete`, {
        form: { csrf: aliceCsrf ?? '', server: 'notion' },
        maxRedirects: 0,
      });
      expect(attempt.status()).toBe(403);
      await alice.page.goto(`${gw.baseURL}/my/tokens`);
      expect(await statusOf(alice.page, 'notion')).toMatch(/^Connected since/);
    } finally {
      await bob.context.close();
    }
  });

  it('deletes the manual token', async () => {
    const { page } = alice;
    await page.goto(`${gw.baseURL}/my/tokens`);
    await page.getByRole('button', { name: 'Delete token' }).click();
    await page.waitForURL(`${gw.baseURL}/my/tokens?notice=deleted`);
    expect(await statusOf(page, 'notion')).toBe('Not connected');
  });

  it('connects the oauth service at its authorization server and disconnects it', async () => {
    const { page } = alice;
    await page.goto(`${gw.baseURL}/my/tokens`);
    await page.getByRole('link', { name: 'Connect Linear' }).click();
    await page.waitForURL(`${gw.baseURL}/oauth/complete?service=linear`);
    expect(await page.getByRole('status').innerText()).toBe('Linear is connected to your account.');
    expect(linear.grantCount('authorization_code')).toBe(1);
    await page.screenshot({ path: `${SHOTS}/oauth-complete.png`, fullPage: true });

    await page.goto(`${gw.baseURL}/oauth/services`);
    expect(await statusOf(page, 'linear')).toMatch(/^Connected since/);
    await page.getByRole('button', { name: 'Disconnect' }).click();
    await page.waitForURL(`${gw.baseURL}/my/tokens?notice=disconnected`);
    expect(await statusOf(page, 'linear')).toBe('Not connected');
  });

  it('sends a person without a session through the login and back: to the page asked for, or to their tokens from a service callback', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      gw.idp.loginAs('alice');
      await page.goto(`${gw.baseURL}/oauth/connect?service=linear`);
      // Signed in, then sent on to the service and back: connected.
      expect(page.url()).toBe(`${gw.baseURL}/oauth/complete?service=linear`);
      await context.clearCookies();
      gw.idp.loginAs('alice');
      await page.goto(`${gw.baseURL}/oauth/callback/linear?code=spent-code&state=old-state`);
      expect(page.url()).toBe(`${gw.baseURL}/my/tokens`);
      expect(await statusOf(page, 'linear')).toMatch(/^Connected since/);
    } finally {
      await context.close();
    }
  });

  it('refuses a stale or foreign connection callback with a clear page, never a 500', async () => {
    const answer = await alice.page.goto(`${gw.baseURL}/oauth/callback/linear?code=forged&state=forged`);
    expect(answer?.status()).toBeGreaterThanOrEqual(400);
    expect(answer?.status()).toBeLessThan(500);
    expect(await alice.page.locator('h1').innerText()).toBe('The service could not be connected');
  });
});
