import { constantTimeEqual, randomId, sha256Base64Url } from '#crypto';
import type { LoginOutcome, Logger, Metrics } from '#observability';
import type { AuditRecorder } from '../../audit/audit-log.js';
import type { ReadSession, SealedBrowserSessions } from '../../browser/sealed-browser-sessions.js';
import { decideAccess, type AccessPolicy } from '../../idp/access-policy.js';
import { IdpError } from '../../idp/idp-error.js';
import type { IdpRecheck } from '../../idp/idp-recheck.js';
import type { IdentityProvider, LoginRequest } from '../../idp/identity-provider.port.js';
import type { AuthStore, PendingAuthorizationRecord } from '../../persistence/auth-store.port.js';
import type { ResourceIndicators } from '../../resources/resource-indicator.js';
import { consentPage } from '../../web/consent-page.js';
import type { ClientRegistry } from '../client-registry.js';
import { readCookie, type CookieJar } from '../../web/cookies.js';
import { errorPage, formTargetOf, pageHeaders, PAGE_HEADERS } from '../../web/html.js';
import { PageError } from '../oauth-error.js';
import { clientRedirect, type AuthorizationRequest } from './authorization-request.js';
import { issueAuthorizationCode, type CodeRequest } from './authorization-code.js';

/** What a browser route answers: a page or a redirect, with cookies. */
export interface BrowserAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body?: string;
}

export interface LoginFlowDeps {
  store: AuthStore;
  clients: ClientRegistry;
  idp: IdentityProvider;
  policy: AccessPolicy;
  resources: ResourceIndicators;
  cookies: CookieJar;
  sessions: SealedBrowserSessions;
  recheck: IdpRecheck;
  options: { issuer: string; gatewayName: string; basePath: string; refreshTokenTtlMs: number; browserSessionMaxAgeMs: number };
  log: Logger;
  metrics: Metrics;
  audit: AuditRecorder;
}

const PENDING_TTL_MS = 10 * 60_000;
const COOKIE_PREFIX = 'gh-consent-';
/** The client id of a pending sign-in to Gatehouse's own pages; its redirectUri is the page's relative path. */
const PAGE_SIGN_IN = '';

const redirect = (location: string, ...cookies: (string | undefined)[]): BrowserAnswer => {
  const set = cookies.filter((cookie): cookie is string => cookie !== undefined);
  return { status: 302, headers: { location, 'cache-control': 'no-store', ...(set.length > 0 && { 'set-cookie': set }) } };
};

/**
 * The browser's way through an authorization. With a live browser session the person is known:
 * consent remembered for the client's servers sends the code back at once, otherwise the consent
 * page is asked and then the code. Without one: the consent page (before anything is sent to the
 * identity provider, as a proxy with one upstream client must), the login there, the browser
 * session set, and the code back to the client. A cookie set with the consent page ties the
 * later steps to this browser.
 */
export class LoginFlow {
  constructor(private readonly deps: LoginFlowDeps) {}

  async begin(request: AuthorizationRequest, cookieHeader?: string): Promise<BrowserAnswer> {
    const now = Date.now();
    const signedIn = this.signedIn(cookieHeader);
    const { redirectUri, state, codeChallenge, scope } = request;
    const codeRequest: CodeRequest = { clientId: request.client.clientId, redirectUri, state, codeChallenge, scope };
    if (signedIn) {
      const remembered = await this.deps.store.consents.find(signedIn.identity.sub, codeRequest.clientId);
      const covered = this.coveredBy(request.resources, remembered?.resources ?? []);
      if (covered) {
        this.deps.log.info(
          { sub: signedIn.session.sub, clientId: codeRequest.clientId },
          'authorized from the browser session and remembered consent',
        );
        return redirect(await this.issue(codeRequest, signedIn, covered, now), signedIn.renewal);
      }
    }
    const pending: PendingAuthorizationRecord = {
      id: randomId(),
      ...codeRequest,
      resources: request.resources,
      csrfHash: '',
      idpNonce: randomId(),
      idpCodeVerifier: randomId(32),
      createdAt: now,
      expiresAt: now + PENDING_TTL_MS,
    };
    const csrf = randomId();
    pending.csrfHash = sha256Base64Url(csrf);
    await this.deps.store.pendingAuthorizations.insert(pending);
    const cookie = this.deps.cookies.set(COOKIE_PREFIX + pending.id, csrf, PENDING_TTL_MS / 1000);
    const cookies = signedIn?.renewal === undefined ? [cookie] : [cookie, signedIn.renewal];
    const headers = { ...(await this.consentHeaders(pending, signedIn !== undefined)), 'set-cookie': cookies };
    return { status: 200, headers, body: await this.consent(pending, csrf, signedIn !== undefined) };
  }

  /** The consent form was submitted: deny, give the code (signed in), or send the person to the identity provider. */
  async decide(form: URLSearchParams, cookieHeader: string | undefined): Promise<BrowserAnswer> {
    const pending = await this.deps.store.pendingAuthorizations.find(form.get('pending') ?? '', Date.now());
    if (!pending || pending.clientId === PAGE_SIGN_IN) throw expired();
    const csrf = form.get('csrf') ?? '';
    if (!constantTimeEqual(sha256Base64Url(csrf), pending.csrfHash) || !this.cookieMatches(cookieHeader, pending)) {
      throw new PageError('This form cannot be used', 'It was not opened in this browser, or it was sent from another site.', 403);
    }
    const { iss, resources } = { iss: this.deps.options.issuer, resources: this.deps.resources };
    const clearCookie = this.deps.cookies.clear(COOKIE_PREFIX + pending.id);
    if (form.get('decision') !== 'approve') {
      await this.deps.store.pendingAuthorizations.take(pending.id, Date.now());
      this.consented('denied', pending.clientId, this.signedIn(cookieHeader)?.identity, pending.resources);
      const location = clientRedirect(pending.redirectUri, {
        error: 'access_denied',
        error_description: 'the user denied access',
        state: pending.state,
        iss,
      });
      return redirect(location, clearCookie);
    }
    const chosen = form.getAll('server').flatMap((name) => resources.resolve(resources.uriOf(name)) ?? []);
    const approved = pending.resources.length > 0 ? pending.resources : [...new Set(chosen)];
    const signedIn = this.signedIn(cookieHeader);
    if (approved.length === 0) {
      const body = await this.consent(pending, csrf, signedIn !== undefined, 'Choose at least one server.');
      return { status: 400, headers: await this.consentHeaders(pending, signedIn !== undefined), body };
    }
    if (signedIn) {
      const taken = await this.deps.store.pendingAuthorizations.take(pending.id, Date.now());
      if (!taken) throw expired();
      await this.deps.store.consents.remember(signedIn.identity.sub, taken.clientId, approved, Date.now());
      this.consented('ok', taken.clientId, signedIn.identity, approved);
      return redirect(await this.issue(taken, signedIn, approved, Date.now()), clearCookie, signedIn.renewal);
    }
    await this.deps.store.pendingAuthorizations.update(pending.id, { approvedResources: approved });
    return redirect((await this.idpUrl(loginOf(pending))).href);
  }

  /** Sends a person without a browser session to the identity provider, then back to `returnTo` (a path of ours). */
  async signIn(returnTo: string): Promise<BrowserAnswer> {
    const now = Date.now();
    const csrf = randomId();
    const pending: PendingAuthorizationRecord = {
      id: randomId(),
      clientId: PAGE_SIGN_IN,
      redirectUri: this.ownPath(returnTo),
      state: '',
      codeChallenge: '',
      resources: [],
      scope: '',
      csrfHash: sha256Base64Url(csrf),
      idpNonce: randomId(),
      idpCodeVerifier: randomId(32),
      approvedResources: [],
      createdAt: now,
      expiresAt: now + PENDING_TTL_MS,
    };
    await this.deps.store.pendingAuthorizations.insert(pending);
    const cookie = this.deps.cookies.set(COOKIE_PREFIX + pending.id, csrf, PENDING_TTL_MS / 1000);
    return redirect((await this.idpUrl(loginOf(pending))).href, cookie);
  }

  /** The identity provider sent the person back: check who they are, start the browser session, then give the client its code. */
  async complete(callbackUrl: URL, cookieHeader: string | undefined): Promise<BrowserAnswer> {
    const now = Date.now();
    const state = callbackUrl.searchParams.get('state') ?? '';
    const found = await this.deps.store.pendingAuthorizations.find(state, now);
    // The cookie first: whoever learns `state` from the IdP's URL must not end someone else's sign-in.
    if (found && !this.cookieMatches(cookieHeader, found)) {
      this.loginEnded('wrong_browser', found.clientId);
      throw new PageError('This sign-in cannot continue', 'It was not started in this browser. Start again from the application.', 403);
    }
    const pending = found && (await this.deps.store.pendingAuthorizations.take(state, now));
    if (!pending?.idpNonce || !pending.idpCodeVerifier || !pending.approvedResources) {
      // Anyone may call back with any state: only a sign-in that had begun is worth a record.
      if (found) this.loginEnded('expired', found.clientId);
      else this.deps.metrics.login('expired');
      throw expired();
    }
    const clearCookie = this.deps.cookies.clear(COOKIE_PREFIX + pending.id);
    const refuse = (status: number, title: string, message: string, error: string): BrowserAnswer => {
      const location =
        pending.clientId === PAGE_SIGN_IN
          ? undefined
          : clientRedirect(pending.redirectUri, { error, error_description: message, state: pending.state, iss: this.deps.options.issuer });
      const body = errorPage(this.deps.options.gatewayName, title, message, location);
      return { status, headers: { ...PAGE_HEADERS, 'set-cookie': clearCookie }, body };
    };
    let identity;
    let idpRefreshToken: string | undefined;
    const keep = this.deps.recheck.supported ? (token: string) => (idpRefreshToken = token) : undefined;
    try {
      identity = await this.deps.idp.completeLogin(callbackUrl, loginOf(pending), keep);
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      this.deps.log.warn({ code: err.code, reason: err.message, clientId: pending.clientId }, 'login at the identity provider failed');
      this.loginEnded(err.code === 'access_denied' ? 'denied' : 'failed', pending.clientId);
      if (err.code === 'access_denied') return refuse(403, 'Access denied', err.message, 'access_denied');
      return refuse(502, 'Sign-in failed', `The identity provider's answer could not be used: ${err.message}`, 'server_error');
    }
    const decision = decideAccess(identity, this.deps.policy);
    if (!decision.allowed) {
      this.deps.log.warn({ sub: identity.sub, email: identity.email, reason: decision.reason }, 'login refused by policy');
      this.loginEnded('refused', pending.clientId, identity);
      return refuse(403, 'Access denied', `${decision.reason}. Ask your administrator for access.`, 'access_denied');
    }
    const started = this.deps.sessions.start(identity);
    this.deps.log.info({ sub: identity.sub, email: identity.email, clientId: pending.clientId }, 'login succeeded');
    this.loginEnded('ok', pending.clientId, identity);
    if (pending.clientId === PAGE_SIGN_IN) return redirect(pending.redirectUri, clearCookie, started.renewal);
    await this.deps.store.consents.remember(identity.sub, pending.clientId, pending.approvedResources, now);
    this.consented('ok', pending.clientId, identity, pending.approvedResources);
    const code = await this.issue(pending, started, pending.approvedResources, now, idpRefreshToken);
    return redirect(code, clearCookie, started.renewal);
  }

  /** A sign-in ended: counted, and recorded in the audit trail (Gatehouse's own pages have no client id). */
  private loginEnded(outcome: LoginOutcome, clientId: string | undefined, who?: AuditedPerson): void {
    this.deps.metrics.login(outcome);
    this.deps.audit.record({ at: Date.now(), kind: 'login', outcome, ...personOf(who), ...(clientId && { clientId }) });
  }

  /** A consent given or refused on the consent page; `resources` are the servers' URIs. */
  private consented(outcome: 'ok' | 'denied', clientId: string, who: AuditedPerson | undefined, resources: readonly string[]): void {
    const detail = resources.join(' ').slice(0, 1024);
    this.deps.audit.record({ at: Date.now(), kind: 'consent', outcome, clientId, ...personOf(who), ...(detail && { detail }) });
  }

  /** The browser's live session whose person the access policy still lets in. */
  signedIn(cookieHeader: string | undefined): ReadSession | undefined {
    const read = this.deps.sessions.readRenewing(cookieHeader);
    if (!read) return undefined;
    const decision = decideAccess(read.identity, this.deps.policy);
    if (decision.allowed) return read;
    this.deps.log.warn({ sub: read.identity.sub, reason: decision.reason }, 'browser session refused by policy');
    return undefined;
  }

  /** The servers to grant without asking, or undefined when the client asks for one not approved before. */
  private coveredBy(asked: string[], remembered: string[]): string[] | undefined {
    // A client naming no server gets those approved before that still exist.
    const wanted = asked.length > 0 ? asked : remembered.filter((uri) => this.deps.resources.all().includes(uri));
    return wanted.length > 0 && wanted.every((uri) => remembered.includes(uri)) ? wanted : undefined;
  }

  /**
   * A person removed at the identity provider keeps no access past the session's absolute expiry;
   * a grant made at a login that gave an IdP refresh token is asked about at each refresh too.
   */
  private issue(request: CodeRequest, signedIn: ReadSession, resources: string[], now: number, idpRefreshToken?: string): Promise<string> {
    const { identity, session } = signedIn;
    const subject = { sub: identity.sub, email: identity.email, groups: identity.groups };
    const notAfter = session.authenticatedAt + this.deps.options.browserSessionMaxAgeMs;
    const sealIdpRefresh =
      idpRefreshToken === undefined ? undefined : (grantId: string) => this.deps.recheck.seal(grantId, idpRefreshToken);
    const person = { subject, notAfter, ...(sealIdpRefresh && { sealIdpRefresh }) };
    return issueAuthorizationCode(this.deps.store, this.deps.options, request, person, resources, now);
  }

  private async idpUrl(login: LoginRequest): Promise<URL> {
    try {
      return await this.deps.idp.authorizationUrl(login);
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      this.deps.log.error({ code: err.code, reason: err.message }, 'the identity provider cannot be reached');
      throw new PageError('Sign-in is not available right now', `${err.message}. Go back and try again in a moment.`, 502);
    }
  }

  /** A path under the base path, never another origin (`//host`, `/\host`) nor anything but a path. */
  private ownPath(returnTo: string): string {
    const base = this.deps.options.basePath;
    const fallback = `${base}/my/tokens`;
    if (!returnTo.startsWith(`${base}/`) || returnTo.startsWith('//') || /[\\\s]/.test(returnTo)) return fallback;
    const url = new URL(returnTo, 'http://own.invalid');
    return url.origin === 'http://own.invalid' ? url.pathname + url.search : fallback;
  }

  private cookieMatches(cookieHeader: string | undefined, pending: PendingAuthorizationRecord): boolean {
    const value = readCookie(cookieHeader, this.deps.cookies.name(COOKIE_PREFIX + pending.id));
    return value !== undefined && constantTimeEqual(sha256Base64Url(value), pending.csrfHash);
  }

  /** The consent form's answer redirects to the client (denied, or signed in) or to the identity provider. */
  private async consentHeaders(pending: PendingAuthorizationRecord, signedIn: boolean): Promise<Record<string, string>> {
    const targets = formTargetOf(pending.redirectUri);
    if (!signedIn) targets.push(...formTargetOf((await this.idpUrl(loginOf(pending))).href));
    return pageHeaders(targets);
  }

  private async consent(pending: PendingAuthorizationRecord, csrf: string, signedIn: boolean, error?: string): Promise<string> {
    const { resources, options, clients } = this.deps;
    const client = await clients.find(pending.clientId).catch(() => undefined);
    const choose = pending.resources.length === 0;
    return consentPage({
      gateway: options.gatewayName,
      clientName: client?.clientName ?? pending.clientId,
      clientId: pending.clientId,
      redirectHost: new URL(pending.redirectUri).host || pending.redirectUri,
      servers: (choose ? resources.all() : pending.resources).map((uri) => resources.serverOf(uri)),
      choose,
      signedIn,
      pendingId: pending.id,
      csrf,
      action: `${options.basePath}/oauth/consent`,
      ...(error !== undefined && { error }),
    });
  }
}

function loginOf(pending: PendingAuthorizationRecord): LoginRequest {
  if (pending.idpNonce === undefined || pending.idpCodeVerifier === undefined) throw expired();
  return { state: pending.id, nonce: pending.idpNonce, codeVerifier: pending.idpCodeVerifier };
}

function expired(): PageError {
  return new PageError('This sign-in has expired', 'It took too long or was already used. Start again from the application.');
}

type AuditedPerson = { sub: string; email?: string | undefined };

function personOf(who: AuditedPerson | undefined): { sub?: string; email?: string } {
  if (!who) return {};
  return { sub: who.sub, ...(who.email !== undefined && { email: who.email }) };
}
