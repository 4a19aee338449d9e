import { PassThrough } from 'node:stream';
import type { AuditRecord } from '#contracts';
import { Envelope, sha256Base64Url } from '#crypto';
import { createLogger, PrometheusMetrics } from '#observability';
import { SealedBrowserSessions } from '../../browser/sealed-browser-sessions.js';
import type { Identity } from '../../idp/identity.js';
import { IdpRecheck } from '../../idp/idp-recheck.js';
import type { IdentityProvider, LoginRequest } from '../../idp/identity-provider.port.js';
import type { AuthStore, ClientRecord } from '../../persistence/auth-store.port.js';
import { openAuthStore } from '../../persistence/open-auth-store.js';
import { ResourceIndicators } from '../../resources/resource-indicator.js';
import { CookieJar } from '../../web/cookies.js';
import { ClientRegistry } from '../client-registry.js';
import { ClientMetadataDocuments } from '../clients/client-metadata-document.js';
import { LoginFlow, type BrowserAnswer } from './login-flow.js';

const BASE = 'https://gh.example.com';
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const person = (email: string): Identity => ({ sub: `oidc:${email}`, email, emailVerified: true, groups: [], orgs: [] });

/** Our IdentityProvider port, answering as the identity provider would for `who`. */
class FakeIdentityProvider implements IdentityProvider {
  who = person('ada@example.com');
  logins = 0;

  authorizationUrl(login: LoginRequest): Promise<URL> {
    return Promise.resolve(new URL(`https://idp.example/authorize?state=${login.state}`));
  }

  completeLogin(callbackUrl: URL, login: LoginRequest): Promise<Identity> {
    if (callbackUrl.searchParams.get('state') !== login.state) throw new Error('state mismatch');
    this.logins += 1;
    return Promise.resolve(this.who);
  }
}

const client: ClientRecord = {
  clientId: 'c1',
  clientName: 'Claude',
  redirectUris: ['http://127.0.0.1:4000/cb'],
  grantTypes: ['authorization_code'],
  tokenEndpointAuthMethod: 'none',
  createdAt: 0,
};
const request = (servers: string[]) => ({
  client,
  redirectUri: 'http://127.0.0.1:4000/cb',
  state: 'client-state',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  resources: servers.map((s) => `${BASE}/${s}`),
  scope: '',
});

/** A browser's cookie jar: what Set-Cookie put, sent back as a Cookie header. */
class Browser {
  readonly jar = new Map<string, string>();
  take(answer: BrowserAnswer): BrowserAnswer {
    const set = answer.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set === undefined ? [] : [set]) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (line.includes('Max-Age=0;')) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return answer;
  }
  get cookie(): string {
    return [...this.jar].map(([n, v]) => `${n}=${v}`).join('; ');
  }
}

const formOf = (html: string | undefined, decision = 'approve') => {
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(html ?? '')?.[1] ?? '';
  return new URLSearchParams({ pending: field('pending'), csrf: field('csrf'), decision });
};

describe('LoginFlow with a browser session', () => {
  let store: AuthStore;
  let idp: FakeIdentityProvider;
  let flow: LoginFlow;
  let metrics: PrometheusMetrics;
  let audited: AuditRecord[];
  const policy = { allowedDomains: ['example.com'], allowedEmails: [], allowedGroups: [], allowedOrgs: [] };

  beforeEach(async () => {
    store = await openAuthStore({ type: 'sqlite', path: ':memory:' });
    await store.clients.insert(client);
    idp = new FakeIdentityProvider();
    const cookies = new CookieJar(true);
    metrics = new PrometheusMetrics([]);
    audited = [];
    flow = new LoginFlow({
      store,
      clients: new ClientRegistry(store.clients, new ClientMetadataDocuments({ devMode: false }), false),
      idp,
      policy,
      resources: new ResourceIndicators(BASE, ['notion', 'linear', 'db']),
      cookies,
      recheck: new IdpRecheck({ idp, policy, envelope: new Envelope([{ id: 'k', key: Buffer.alloc(32, 7) }]), grants: store.grants, log }),
      sessions: new SealedBrowserSessions(new Envelope([{ id: 'k', key: Buffer.alloc(32, 7) }]), cookies, {
        idleTimeoutMs: 3_600_000,
        maxAgeMs: 7_200_000,
      }),
      options: { issuer: BASE, gatewayName: 'Acme', basePath: '', refreshTokenTtlMs: 30 * 86_400_000, browserSessionMaxAgeMs: 7_200_000 },
      log,
      metrics,
      audit: { record: (r) => void audited.push(r) },
    });
  });
  afterEach(() => store.close());

  /** The whole way without a session: consent page, identity provider, code. */
  async function firstLogin(browser: Browser, servers: string[]): Promise<BrowserAnswer> {
    const consent = browser.take(await flow.begin(request(servers), browser.cookie));
    expect(consent.body).toContain('Allow and sign in');
    const toIdp = browser.take(await flow.decide(formOf(consent.body), browser.cookie));
    const state = new URL(String(toIdp.headers.location)).searchParams.get('state') ?? '';
    return browser.take(await flow.complete(new URL(`${BASE}/oauth/callback?code=x&state=${state}`), browser.cookie));
  }

  const codeIn = (answer: BrowserAnswer) => new URL(String(answer.headers.location)).searchParams.get('code');

  it('sets the session cookie after the login, then a second /authorize skips the identity provider and the consent page', async () => {
    const browser = new Browser();
    const first = await firstLogin(browser, ['notion']);
    expect(codeIn(first)).toBeTruthy();
    expect([...browser.jar.keys()]).toEqual(['__Host-gh-session']);
    expect(await store.consents.find(idp.who.sub, 'c1')).toMatchObject({ resources: [`${BASE}/notion`] });

    const second = browser.take(await flow.begin(request(['notion']), browser.cookie));
    expect(second.status).toBe(302);
    expect(codeIn(second)).toBeTruthy();
    expect(idp.logins).toBe(1);
    const logins = await metrics.registry.getSingleMetric('gatehouse_logins_total')?.get();
    expect(logins?.values).toEqual([{ labels: { outcome: 'ok' }, value: 1 }]);
    const who = { sub: idp.who.sub, email: idp.who.email, clientId: 'c1' };
    expect(audited).toEqual([
      { ...who, at: expect.any(Number), kind: 'login', outcome: 'ok' },
      { ...who, at: expect.any(Number), kind: 'consent', outcome: 'ok', detail: `${BASE}/notion` },
    ]);
    // A client naming no server gets those remembered.
    const unnamed = await flow.begin(request([]), browser.cookie);
    expect(codeIn(unnamed)).toBeTruthy();
  });

  it("ends the grants at the browser session's absolute expiry, not the refresh-token lifetime", async () => {
    const browser = new Browser();
    const started = Date.now();
    const first = await firstLogin(browser, ['notion']);
    const second = await flow.begin(request(['notion']), browser.cookie);
    for (const answer of [first, second]) {
      const consumed = await store.codes.consume(sha256Base64Url(codeIn(answer) ?? ''), Date.now());
      const grant = await store.grants.find(consumed?.record.grantId ?? '');
      const authenticatedAt = flow.signedIn(browser.cookie)?.session.authenticatedAt ?? 0;
      expect(authenticatedAt).toBeGreaterThanOrEqual(started);
      expect(grant?.expiresAt).toBe(authenticatedAt + 7_200_000);
    }
  });

  it('asks again, without the identity provider, when the client asks for a server beyond those remembered', async () => {
    const browser = new Browser();
    await firstLogin(browser, ['notion']);
    const consent = browser.take(await flow.begin(request(['notion', 'db']), browser.cookie));
    expect(consent.status).toBe(200);
    expect(consent.body).toContain('>Allow</button>');
    const code = browser.take(await flow.decide(formOf(consent.body), browser.cookie));
    expect(codeIn(code)).toBeTruthy();
    expect(idp.logins).toBe(1);
    expect(audited.at(-1)).toMatchObject({ kind: 'consent', outcome: 'ok', sub: idp.who.sub, clientId: 'c1' });
    expect((await store.consents.find(idp.who.sub, 'c1'))?.resources.sort()).toEqual([`${BASE}/db`, `${BASE}/notion`]);
    expect(codeIn(await flow.begin(request(['db']), browser.cookie))).toBeTruthy();
  });

  it('ignores the session of a person the access policy no longer lets in, and a tampered cookie', async () => {
    const browser = new Browser();
    await firstLogin(browser, ['notion']);
    // One character of the ciphertext changed (the last ones may be base64 padding bits).
    const at = browser.cookie.length - 30;
    const tampered = browser.cookie.slice(0, at) + (browser.cookie[at] === 'A' ? 'B' : 'A') + browser.cookie.slice(at + 1);
    expect((await flow.begin(request(['notion']), tampered)).status).toBe(200);
    policy.allowedDomains = ['example.org'];
    try {
      expect((await flow.begin(request(['notion']), browser.cookie)).status).toBe(200);
      expect(flow.signedIn(browser.cookie)).toBeUndefined();
    } finally {
      policy.allowedDomains = ['example.com'];
    }
  });

  it("signs a person in for Gatehouse's own pages and sends them back to a path of ours only", async () => {
    for (const [asked, back] of [
      ['/my/tokens?notice=saved', '/my/tokens?notice=saved'],
      ['//evil.example/x', '/my/tokens'],
      ['/\\evil.example', '/my/tokens'],
      ['https://evil.example/', '/my/tokens'],
      ['/oauth/connect?service=linear', '/oauth/connect?service=linear'],
    ]) {
      const browser = new Browser();
      const toIdp = browser.take(await flow.signIn(asked ?? ''));
      const state = new URL(String(toIdp.headers.location)).searchParams.get('state') ?? '';
      const back302 = browser.take(await flow.complete(new URL(`${BASE}/oauth/callback?code=x&state=${state}`), browser.cookie));
      expect(back302.headers.location).toBe(back);
      expect(flow.signedIn(browser.cookie)?.session.sub).toBe(idp.who.sub);
    }
  });
});
