import type { Logger } from '#observability';
import type { BrowserSession } from '../browser/browser-session.port.js';
import type { CsrfTokens } from '../browser/csrf-tokens.js';
import type { ReadSession } from '../browser/sealed-browser-sessions.js';
import { CredentialRefused, type CredentialStatus, type UserCredentials } from '../credentials/user-credentials.port.js';
import type { ClientRegistry } from '../oauth/client-registry.js';
import type { BrowserAnswer } from '../oauth/authorize/login-flow.js';
import { PageError } from '../oauth/oauth-error.js';
import type { AuthStore } from '../persistence/auth-store.port.js';
import type { ResourceIndicators } from '../resources/resource-indicator.js';
import type { Revocations } from '../tokens/revocations.js';
import { escapeHtml, page, PAGE_HEADERS } from './html.js';
import { connectedPage, tokenPage, type AuthorizedApplication } from './token-page.js';

/** A manual token longer than this is no API key anyone was given. */
const MAX_TOKEN_LENGTH = 8192;

const NOTICES: Record<string, string> = {
  saved: 'Your token was saved.',
  deleted: 'Your token was deleted.',
  disconnected: 'The service was disconnected.',
  revoked: 'The application can no longer use your access.',
};

export interface PersonPagesDeps {
  credentials: UserCredentials;
  csrf: CsrfTokens;
  store: AuthStore;
  clients: ClientRegistry;
  resources: ResourceIndicators;
  revocations: Revocations;
  options: { gatewayName: string; basePath: string };
  log: Logger;
}

/**
 * The person's own pages: their credentials for servers that need one, and the applications
 * they authorized. Every method acts for the signed-in person only; every change is a POST
 * whose CSRF token the caller has checked with `checkForm`.
 */
export class PersonPages {
  constructor(private readonly deps: PersonPagesDeps) {}

  /** Throws a 403 page unless the form carries this session's CSRF token. */
  checkForm(session: BrowserSession, form: URLSearchParams): void {
    if (this.deps.csrf.check(session, form.get('csrf'))) return;
    throw new PageError(
      'This form cannot be used',
      'It has expired, belongs to another sign-in, or was sent from another site. Open your tokens page again and retry.',
      403,
    );
  }

  async tokens(
    signedIn: ReadSession,
    notice?: string | null,
    error?: { server: string; message: string },
    status = 200,
  ): Promise<BrowserAnswer> {
    const { session } = signedIn;
    const { options } = this.deps;
    const body = tokenPage({
      gateway: options.gatewayName,
      basePath: options.basePath,
      person: session.email ?? session.sub,
      csrf: this.deps.csrf.issue(session),
      credentials: await this.deps.credentials.list(session),
      applications: await this.applications(session),
      ...(notice != null && NOTICES[notice] !== undefined && { notice: NOTICES[notice] }),
      ...(error !== undefined && { error }),
    });
    return this.answer(signedIn, status, body);
  }

  async setToken(signedIn: ReadSession, form: URLSearchParams): Promise<BrowserAnswer> {
    const status = await this.configured(signedIn.session, form.get('server'), 'manual');
    const token = (form.get('token') ?? '').trim();
    const refuse = (message: string) => this.tokens(signedIn, undefined, { server: status.server, message }, 400);
    if (token === '') return refuse('Enter the token.');
    if (token.length > MAX_TOKEN_LENGTH) return refuse(`The token is longer than ${MAX_TOKEN_LENGTH} characters.`);
    try {
      await this.deps.credentials.setManual(signedIn.session, status.server, token);
    } catch (err) {
      if (err instanceof CredentialRefused) return refuse(err.message);
      throw err;
    }
    this.deps.log.info({ sub: signedIn.session.sub, server: status.server }, 'manual credential stored');
    return this.seeTokens(signedIn, 'saved');
  }

  async deleteToken(signedIn: ReadSession, form: URLSearchParams, type: CredentialStatus['type']): Promise<BrowserAnswer> {
    const status = await this.configured(signedIn.session, form.get(type === 'manual' ? 'server' : 'service'), type);
    await this.deps.credentials.remove(signedIn.session, status.server);
    this.deps.log.info({ sub: signedIn.session.sub, server: status.server }, 'credential removed by its owner');
    return this.seeTokens(signedIn, type === 'manual' ? 'deleted' : 'disconnected');
  }

  async connect(signedIn: ReadSession, service: string | null): Promise<BrowserAnswer> {
    const status = await this.configured(signedIn.session, service, 'oauth');
    const url = await this.refusedAsPage(() => this.deps.credentials.beginConnect(signedIn.session, status.server));
    return this.redirect(signedIn, url.href);
  }

  async connected(signedIn: ReadSession, service: string, callbackUrl: URL): Promise<BrowserAnswer> {
    const status = await this.configured(signedIn.session, service, 'oauth');
    const server = await this.refusedAsPage(() => this.deps.credentials.completeConnect(signedIn.session, status.server, callbackUrl));
    this.deps.log.info({ sub: signedIn.session.sub, server }, 'service connected');
    return this.redirect(signedIn, `${this.deps.options.basePath}/oauth/complete?service=${encodeURIComponent(server)}`);
  }

  async complete(signedIn: ReadSession, service: string | null): Promise<BrowserAnswer> {
    const status = await this.configured(signedIn.session, service, 'oauth');
    return this.answer(signedIn, 200, connectedPage(this.deps.options.gatewayName, this.deps.options.basePath, status.displayName));
  }

  /** Ends every live grant of one client for this person (edges drop its tokens at once) and forgets the consent. */
  async revokeApplication(signedIn: ReadSession, form: URLSearchParams): Promise<BrowserAnswer> {
    const clientId = form.get('client') ?? '';
    const { sub } = signedIn.session;
    const grants = (await this.deps.store.grants.listActive(sub, Date.now())).filter((grant) => grant.clientId === clientId);
    if (grants.length === 0)
      throw new PageError('No such application', 'It has no access left to revoke. Open your tokens page again.', 404);
    for (const grant of grants) await this.deps.revocations.revokeGrant(grant.id, 'revoked by the person on their tokens page');
    await this.deps.store.consents.forget(sub, clientId);
    return this.seeTokens(signedIn, 'revoked');
  }

  private async applications(session: BrowserSession): Promise<AuthorizedApplication[]> {
    const byClient = new Map<string, AuthorizedApplication>();
    for (const grant of await this.deps.store.grants.listActive(session.sub, Date.now())) {
      const app = byClient.get(grant.clientId) ?? {
        clientId: grant.clientId,
        clientName: grant.clientId,
        servers: [],
        since: grant.createdAt,
      };
      const servers = grant.resources.map((uri) => this.deps.resources.serverOf(uri));
      app.servers = [...new Set([...app.servers, ...servers])];
      byClient.set(grant.clientId, app);
    }
    for (const app of byClient.values()) {
      const client = await this.deps.clients.find(app.clientId).catch(() => undefined);
      app.clientName = client?.clientName ?? app.clientId;
    }
    return [...byClient.values()];
  }

  /** The person's status for a server that needs a credential of this type; a clear 4xx page otherwise. */
  private async configured(session: BrowserSession, server: string | null, type: CredentialStatus['type']): Promise<CredentialStatus> {
    if (server === null || server === '')
      throw new PageError('Which service?', 'The request named no service. Open your tokens page and choose one.');
    const status = (await this.deps.credentials.list(session)).find((s) => s.server === server);
    if (status?.type !== type) {
      const what = type === 'oauth' ? 'connected with OAuth' : 'given a token';
      throw new PageError('No such service', `There is no service named “${server}” that can be ${what} here.`, 404);
    }
    return status;
  }

  private async refusedAsPage<T>(act: () => Promise<T>): Promise<T> {
    try {
      return await act();
    } catch (err) {
      if (err instanceof CredentialRefused) throw new PageError('The service could not be connected', err.message, 400);
      throw err;
    }
  }

  private seeTokens(signedIn: ReadSession, notice: string): BrowserAnswer {
    return { ...this.redirect(signedIn, `${this.deps.options.basePath}/my/tokens?notice=${notice}`), status: 303 };
  }

  private redirect(signedIn: ReadSession, location: string): BrowserAnswer {
    return { status: 302, headers: withRenewal(signedIn, { location, 'cache-control': 'no-store' }) };
  }

  private answer(signedIn: ReadSession, status: number, body: string): BrowserAnswer {
    return { status, headers: withRenewal(signedIn, { ...PAGE_HEADERS }), body };
  }
}

/** The session cookie again when its idle expiry is due to move on. */
function withRenewal(signedIn: ReadSession, headers: Record<string, string>): Record<string, string> {
  return signedIn.renewal === undefined ? headers : { ...headers, 'set-cookie': signedIn.renewal };
}

/** After signing out: the page, and the cookie cleared. */
export function signedOutAnswer(gateway: string, basePath: string, clearCookie: string): BrowserAnswer {
  const body = page(
    gateway,
    'Signed out',
    `<p role="status">You are signed out in this browser.</p><p><a href="${escapeHtml(basePath)}/my/tokens">Sign in again</a></p>`,
  );
  return { status: 200, headers: { ...PAGE_HEADERS, 'set-cookie': clearCookie }, body };
}
