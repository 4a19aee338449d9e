import { PassThrough } from 'node:stream';
import { LocalBus } from '#bus';
import { decode, TokenRevokedEventSchema, tokenRevokedSubject } from '#contracts';
import { createLogger } from '#observability';
import { CsrfTokens } from '../browser/csrf-tokens.js';
import type { ReadSession } from '../browser/sealed-browser-sessions.js';
import { InMemoryUserCredentials } from '../credentials/user-credentials.fixture.js';
import { ClientRegistry } from '../oauth/client-registry.js';
import { ClientMetadataDocuments } from '../oauth/clients/client-metadata-document.js';
import { PageError } from '../oauth/oauth-error.js';
import type { AuthStore, GrantRecord } from '../persistence/auth-store.port.js';
import { openAuthStore } from '../persistence/open-auth-store.js';
import { ResourceIndicators } from '../resources/resource-indicator.js';
import { Revocations } from '../tokens/revocations.js';
import { PersonPages } from './person-pages.js';

const BASE = 'https://gh.example.com/gw';
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const person = (sub: string, id = `session-of-${sub}`): ReadSession => ({
  session: { id, sub, email: `${sub}@example.com`, groups: [], authenticatedAt: 0 },
  identity: { sub, email: `${sub}@example.com`, emailVerified: true, groups: [], orgs: [] },
});
const alice = person('alice');
const bob = person('bob');
const form = (fields: Record<string, string>) => new URLSearchParams(fields);

describe('PersonPages', () => {
  let store: AuthStore;
  let credentials: InMemoryUserCredentials;
  let pages: PersonPages;
  const bus = new LocalBus();
  const csrf = new CsrfTokens('k'.repeat(32));
  const resources = new ResourceIndicators(BASE, ['notion', 'linear', 'db']);

  beforeEach(async () => {
    store = await openAuthStore({ type: 'sqlite', path: ':memory:' });
    credentials = new InMemoryUserCredentials(
      [
        {
          server: 'notion',
          type: 'manual',
          displayName: 'Notion <API>',
          validation: /^secret_[a-z0-9]+$/,
          instructions: 'Create an integration token.',
          helpUrl: 'https://notion.example/help?a=1&b=2',
        },
        { server: 'linear', type: 'oauth', displayName: 'Linear', authorizationUrl: 'https://linear.example/authorize' },
      ],
      () => Date.UTC(2026, 11, 5, 21, 30),
    );
    pages = new PersonPages({
      credentials,
      csrf,
      store,
      clients: new ClientRegistry(store.clients, new ClientMetadataDocuments({ devMode: false }), false),
      resources,
      revocations: new Revocations(store, bus, { tokenTtlMs: 3_600_000, log }),
      options: { gatewayName: 'Acme <MCP>', basePath: '/gw' },
      log,
    });
  });
  afterEach(() => store.close());
  afterAll(() => bus.close());

  it('shows each server needing a credential, a labelled password field, the help, and the gateway name, with the CSRF token in every form', async () => {
    const answer = await pages.tokens(alice);
    const html = answer.body ?? '';
    expect(answer.status).toBe(200);
    expect(answer.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(html).toContain('<title>Your tokens · Acme &lt;MCP&gt;</title>');
    expect(html).toContain('<label for="token-notion">Token for Notion &lt;API&gt;</label>');
    expect(html).toMatch(
      /<input type="password" id="token-notion" name="token" required autocomplete="off"[^>]*aria-describedby="token-notion-help"/,
    );
    expect(html).toContain('href="https://notion.example/help?a=1&amp;b=2"');
    expect(html).toContain('href="/gw/oauth/connect?service=linear"');
    expect(html).not.toContain('tabindex');
    const forms = html.match(/<form method="post"/g) ?? [];
    const tokens = html.match(new RegExp(`name="csrf" value="${csrf.issue(alice.session)}"`, 'g')) ?? [];
    expect(forms.length).toBeGreaterThan(1);
    expect(tokens).toHaveLength(forms.length);
  });

  it('refuses a token that fails validation with the message on the page (400), storing nothing and not echoing it', async () => {
    const answer = await pages.setToken(alice, form({ server: 'notion', token: 'not-a-notion-token' }));
    expect(answer.status).toBe(400);
    expect(answer.body).toContain('<p id="token-notion-error" class="error" role="alert">That is not a Notion &lt;API&gt; token.</p>');
    expect(answer.body).toContain('aria-invalid="true" autofocus');
    expect(answer.body).not.toContain('not-a-notion-token');
    expect(credentials.stored.get('alice')).toBeUndefined();
    expect((await pages.setToken(alice, form({ server: 'notion', token: ' ' }))).body).toContain('Enter the token.');
    expect((await pages.setToken(alice, form({ server: 'notion', token: 'x'.repeat(9000) }))).status).toBe(400);
  });

  it('stores a valid token for the person only, shows it connected, and deletes it', async () => {
    const saved = await pages.setToken(alice, form({ server: 'notion', token: 'secret_abc' }));
    expect(saved).toMatchObject({ status: 303, headers: { location: '/gw/my/tokens?notice=saved' } });
    expect(credentials.stored.get('alice')?.get('notion')?.secret).toBe('secret_abc');
    const page = (await pages.tokens(alice, 'saved')).body ?? '';
    expect(page).toContain('Your token was saved.');
    expect(page).toContain('Connected since <time datetime="2026-12-05T21:30:00.000Z">2026-12-05 21:30 UTC</time>');
    expect(page).toContain('Replace token');
    expect((await pages.tokens(bob)).body).not.toContain('Connected since');

    expect(await pages.deleteToken(alice, form({ server: 'notion' }), 'manual')).toMatchObject({
      status: 303,
      headers: { location: '/gw/my/tokens?notice=deleted' },
    });
    expect(credentials.stored.get('alice')?.has('notion')).toBe(false);
  });

  it('answers an unknown or missing service, or one of the other kind, with a 4xx page', async () => {
    const statusOf = (act: Promise<unknown>) =>
      act.then(
        () => 200,
        (err: unknown) => (err instanceof PageError ? err.status : 500),
      );
    expect(await statusOf(pages.setToken(alice, form({ server: 'nope', token: 'secret_a' })))).toBe(404);
    expect(await statusOf(pages.setToken(alice, form({ token: 'secret_a' })))).toBe(400);
    expect(await statusOf(pages.setToken(alice, form({ server: 'linear', token: 'secret_a' })))).toBe(404);
    expect(await statusOf(pages.connect(alice, 'notion'))).toBe(404);
    expect(await statusOf(pages.connect(alice, null))).toBe(400);
    expect(await statusOf(pages.complete(alice, '<script>'))).toBe(404);
    expect(await statusOf(pages.revokeApplication(alice, form({ client: 'never-authorized' })))).toBe(404);
  });

  it('accepts a form only with the CSRF token of the same browser session', () => {
    const token = csrf.issue(alice.session);
    expect(() => pages.checkForm(alice.session, form({ csrf: token }))).not.toThrow();
    for (const [who, fields] of [
      [bob, { csrf: token }],
      [person('alice', 'another-login'), { csrf: token }],
      [alice, {}],
      [alice, { csrf: `${token}x` }],
    ] as const) {
      const refused = (() => {
        try {
          pages.checkForm(who.session, form(fields));
          return undefined;
        } catch (err) {
          return err;
        }
      })();
      expect(refused).toBeInstanceOf(PageError);
      expect(refused).toMatchObject({ status: 403 });
    }
  });

  it('connects an oauth service through the credentials port and shows the complete page', async () => {
    const connect = await pages.connect(alice, 'linear');
    expect(connect.status).toBe(302);
    const location = new URL(String(connect.headers.location));
    expect(location.origin + location.pathname).toBe('https://linear.example/authorize');
    const callback = new URL(`${BASE}/oauth/callback/linear?code=c1&state=${location.searchParams.get('state')}`);
    expect(await pages.connected(alice, 'linear', callback)).toMatchObject({
      status: 302,
      headers: { location: '/gw/oauth/complete?service=linear' },
    });
    await expect(pages.connected(bob, 'linear', callback)).rejects.toMatchObject({
      status: 400,
      message: 'This connection was not started in this browser.',
    });
    const complete = await pages.complete(alice, 'linear');
    expect(complete.body).toContain('Linear is connected to your account.');
    expect(complete.body).toContain('Go back to your application and try again');
    expect((await pages.tokens(alice)).body).toMatch(/action="\/gw\/oauth\/disconnect"[^]*name="service" value="linear"/);
  });

  it("lists the person's applications and revokes one: its grants end, edges are told, its consent is forgotten", async () => {
    const revoked: string[] = [];
    let bothHeard = (): void => undefined;
    const heard = new Promise<void>((resolve) => (bothHeard = resolve));
    bus.subscribe(tokenRevokedSubject, (msg) => {
      const event = decode(TokenRevokedEventSchema, msg.data);
      if (event.ok) revoked.push(event.value.value);
      if (revoked.length === 2) bothHeard();
    });
    await store.clients.insert({
      clientId: 'c1',
      clientName: 'Claude <Code>',
      redirectUris: ['http://127.0.0.1/cb'],
      grantTypes: [],
      tokenEndpointAuthMethod: 'none',
      createdAt: 0,
    });
    const now = Date.now();
    const grant = (id: string, sub: string, clientId: string, servers: string[], createdAt: number): GrantRecord => ({
      id,
      clientId,
      subject: { sub, email: `${sub}@example.com`, groups: [] },
      resources: servers.map((s) => resources.uriOf(s)),
      scope: '',
      createdAt,
      expiresAt: now + 3_600_000,
    });
    for (const g of [
      grant('g1', 'alice', 'c1', ['notion'], Date.UTC(2026, 0, 2)),
      grant('g2', 'alice', 'c1', ['db'], Date.UTC(2026, 0, 3)),
      grant('g3', 'alice', 'c2', ['db'], Date.UTC(2026, 0, 4)),
      grant('g4', 'bob', 'c1', ['db'], Date.UTC(2026, 0, 4)),
    ]) {
      await store.grants.insert(g);
    }
    await store.consents.remember('alice', 'c1', [resources.uriOf('notion')], now);
    const html = (await pages.tokens(alice)).body ?? '';
    expect(html).toContain(
      '<strong>Claude &lt;Code&gt;</strong>: <code>notion</code>, <code>db</code>, since <time datetime="2026-01-02T00:00:00.000Z">',
    );
    expect(html).toContain('<strong>c2</strong>');

    expect(await pages.revokeApplication(alice, form({ client: 'c1' }))).toMatchObject({ status: 303 });
    expect((await store.grants.listActive('alice', now)).map((g) => g.id)).toEqual(['g3']);
    expect((await store.grants.listActive('bob', now)).map((g) => g.id)).toEqual(['g4']);
    expect(await store.consents.find('alice', 'c1')).toBeUndefined();
    await heard;
    expect(revoked.sort()).toEqual(['g1', 'g2']);
    await expect(pages.revokeApplication(bob, form({ client: 'c2' }))).rejects.toMatchObject({ status: 404 });
  });
});
