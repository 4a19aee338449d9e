import { constantTimeEqual, randomId, sha256Base64Url } from '#crypto';
import type { Logger } from '#observability';
import { decideAccess, type AccessPolicy } from '../../idp/access-policy.js';
import { IdpError } from '../../idp/idp-error.js';
import type { IdentityProvider } from '../../idp/identity-provider.port.js';
import type { AuthStore, PendingAuthorizationRecord } from '../../persistence/auth-store.port.js';
import type { ResourceIndicators } from '../../resources/resource-indicator.js';
import { consentPage } from '../../web/consent-page.js';
import type { ClientRegistry } from '../client-registry.js';
import { readCookie, type CookieJar } from '../../web/cookies.js';
import { errorPage, PAGE_HEADERS } from '../../web/html.js';
import { PageError } from '../oauth-error.js';
import { clientRedirect, type AuthorizationRequest } from './authorization-request.js';

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
  options: { issuer: string; gatewayName: string; basePath: string; refreshTokenTtlMs: number };
  log: Logger;
}

const PENDING_TTL_MS = 10 * 60_000;
const CODE_TTL_MS = 60_000;
const COOKIE_PREFIX = 'gh-consent-';

const redirect = (location: string, cookie?: string): BrowserAnswer => ({
  status: 302,
  headers: { location, 'cache-control': 'no-store', ...(cookie !== undefined && { 'set-cookie': cookie }) },
});

/**
 * The browser's way through an authorization: the consent page (before anything is sent to the
 * identity provider, as a proxy with one upstream client must), the login there, and the code
 * back to the client. A cookie set with the consent page ties the later steps to this browser.
 */
export class LoginFlow {
  constructor(private readonly deps: LoginFlowDeps) {}

  async begin(request: AuthorizationRequest): Promise<BrowserAnswer> {
    const now = Date.now();
    const pending: PendingAuthorizationRecord = {
      id: randomId(),
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      state: request.state,
      codeChallenge: request.codeChallenge,
      resources: request.resources,
      scope: request.scope,
      csrfHash: '',
      createdAt: now,
      expiresAt: now + PENDING_TTL_MS,
    };
    const csrf = randomId();
    pending.csrfHash = sha256Base64Url(csrf);
    await this.deps.store.pendingAuthorizations.insert(pending);
    const cookie = this.deps.cookies.set(COOKIE_PREFIX + pending.id, csrf, PENDING_TTL_MS / 1000);
    return { status: 200, headers: { ...PAGE_HEADERS, 'set-cookie': cookie }, body: await this.consent(pending, csrf) };
  }

  /** The consent form was submitted: deny, or send the person to the identity provider. */
  async decide(form: URLSearchParams, cookieHeader: string | undefined): Promise<BrowserAnswer> {
    const pending = await this.deps.store.pendingAuthorizations.find(form.get('pending') ?? '', Date.now());
    if (!pending) throw expired();
    const csrf = form.get('csrf') ?? '';
    if (!constantTimeEqual(sha256Base64Url(csrf), pending.csrfHash) || !this.cookieMatches(cookieHeader, pending)) {
      throw new PageError('This form cannot be used', 'It was not opened in this browser, or it was sent from another site.', 403);
    }
    const { iss, resources } = { iss: this.deps.options.issuer, resources: this.deps.resources };
    if (form.get('decision') !== 'approve') {
      await this.deps.store.pendingAuthorizations.take(pending.id, Date.now());
      const location = clientRedirect(pending.redirectUri, {
        error: 'access_denied',
        error_description: 'the user denied access',
        state: pending.state,
        iss,
      });
      return redirect(location, this.deps.cookies.clear(COOKIE_PREFIX + pending.id));
    }
    const chosen = form.getAll('server').flatMap((name) => resources.resolve(resources.uriOf(name)) ?? []);
    const approved = pending.resources.length > 0 ? pending.resources : [...new Set(chosen)];
    if (approved.length === 0) {
      return { status: 400, headers: { ...PAGE_HEADERS }, body: await this.consent(pending, csrf, 'Choose at least one server.') };
    }
    const login = { state: pending.id, nonce: randomId(), codeVerifier: randomId(32) };
    await this.deps.store.pendingAuthorizations.update(pending.id, {
      idpNonce: login.nonce,
      idpCodeVerifier: login.codeVerifier,
      approvedResources: approved,
    });
    try {
      return redirect((await this.deps.idp.authorizationUrl(login)).href);
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      this.deps.log.error({ code: err.code, reason: err.message }, 'the identity provider cannot be reached');
      throw new PageError('Sign-in is not available right now', `${err.message}. Go back and try again in a moment.`, 502);
    }
  }

  /** The identity provider sent the person back: check who they are, then give the client its code. */
  async complete(callbackUrl: URL, cookieHeader: string | undefined): Promise<BrowserAnswer> {
    const now = Date.now();
    const state = callbackUrl.searchParams.get('state') ?? '';
    const found = await this.deps.store.pendingAuthorizations.find(state, now);
    // The cookie first: whoever learns `state` from the IdP's URL must not end someone else's sign-in.
    if (found && !this.cookieMatches(cookieHeader, found)) {
      throw new PageError('This sign-in cannot continue', 'It was not started in this browser. Start again from the application.', 403);
    }
    const pending = found && (await this.deps.store.pendingAuthorizations.take(state, now));
    if (!pending?.idpNonce || !pending.idpCodeVerifier || !pending.approvedResources) throw expired();
    const clearCookie = this.deps.cookies.clear(COOKIE_PREFIX + pending.id);
    const refuse = (status: number, title: string, message: string, error: string): BrowserAnswer => {
      const location = clientRedirect(pending.redirectUri, {
        error,
        error_description: message,
        state: pending.state,
        iss: this.deps.options.issuer,
      });
      return {
        status,
        headers: { ...PAGE_HEADERS, 'set-cookie': clearCookie },
        body: errorPage(this.deps.options.gatewayName, title, message, location),
      };
    };
    let identity;
    try {
      identity = await this.deps.idp.completeLogin(callbackUrl, {
        state: pending.id,
        nonce: pending.idpNonce,
        codeVerifier: pending.idpCodeVerifier,
      });
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      this.deps.log.warn({ code: err.code, reason: err.message, clientId: pending.clientId }, 'login at the identity provider failed');
      if (err.code === 'access_denied') return refuse(403, 'Access denied', err.message, 'access_denied');
      return refuse(502, 'Sign-in failed', `The identity provider's answer could not be used: ${err.message}`, 'server_error');
    }
    const decision = decideAccess(identity, this.deps.policy);
    if (!decision.allowed) {
      this.deps.log.warn({ sub: identity.sub, email: identity.email, reason: decision.reason }, 'login refused by policy');
      return refuse(403, 'Access denied', `${decision.reason}. Ask your administrator for access.`, 'access_denied');
    }
    // The grant exists from here, so a code replayed even before its first exchange finishes can revoke it.
    const grant = {
      id: randomId(),
      clientId: pending.clientId,
      subject: { sub: identity.sub, email: identity.email, groups: identity.groups },
      resources: pending.approvedResources,
      scope: pending.scope,
      createdAt: now,
      expiresAt: now + this.deps.options.refreshTokenTtlMs,
    };
    await this.deps.store.grants.insert(grant);
    const code = randomId(32);
    await this.deps.store.codes.insert({
      codeHash: sha256Base64Url(code),
      clientId: grant.clientId,
      redirectUri: pending.redirectUri,
      codeChallenge: pending.codeChallenge,
      resources: grant.resources,
      scope: grant.scope,
      subject: grant.subject,
      grantId: grant.id,
      expiresAt: now + CODE_TTL_MS,
    });
    this.deps.log.info({ sub: identity.sub, email: identity.email, clientId: pending.clientId }, 'login succeeded');
    return redirect(clientRedirect(pending.redirectUri, { code, state: pending.state, iss: this.deps.options.issuer }), clearCookie);
  }

  private cookieMatches(cookieHeader: string | undefined, pending: PendingAuthorizationRecord): boolean {
    const value = readCookie(cookieHeader, this.deps.cookies.name(COOKIE_PREFIX + pending.id));
    return value !== undefined && constantTimeEqual(sha256Base64Url(value), pending.csrfHash);
  }

  private async consent(pending: PendingAuthorizationRecord, csrf: string, error?: string): Promise<string> {
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
      pendingId: pending.id,
      csrf,
      action: `${options.basePath}/oauth/consent`,
      ...(error !== undefined && { error }),
    });
  }
}

function expired(): PageError {
  return new PageError('This sign-in has expired', 'It took too long or was already used. Start again from the application.');
}
