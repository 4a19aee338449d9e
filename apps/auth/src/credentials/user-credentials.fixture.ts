import type { BrowserSession } from '../browser/browser-session.port.js';
import { CredentialRefused, type CredentialStatus, type UserCredentials } from './user-credentials.port.js';

/** A server of the fake: manual with a validation pattern, or oauth at an authorization URL. */
export type FakeServer =
  | { server: string; type: 'manual'; displayName: string; validation?: RegExp; instructions?: string; helpUrl?: string }
  | { server: string; type: 'oauth'; displayName: string; authorizationUrl: string };

/** An in-memory UserCredentials for unit specs of the pages: per person, per server, nothing sealed. */
export class InMemoryUserCredentials implements UserCredentials {
  /** sub → server → { secret, updatedAt } */
  readonly stored = new Map<string, Map<string, { secret: string; updatedAt: number }>>();

  constructor(
    private readonly servers: FakeServer[],
    private readonly now: () => number = Date.now,
  ) {}

  list(session: BrowserSession): Promise<CredentialStatus[]> {
    return Promise.resolve(
      this.servers.map((s) => {
        const held = this.stored.get(session.sub)?.get(s.server);
        const extra = s.type === 'manual' ? { instructions: s.instructions, helpUrl: s.helpUrl } : {};
        return {
          server: s.server,
          displayName: s.displayName,
          type: s.type,
          connected: held !== undefined,
          ...(held && { updatedAt: held.updatedAt }),
          ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
        };
      }),
    );
  }

  setManual(session: BrowserSession, server: string, token: string): Promise<void> {
    const found = this.servers.find((s) => s.server === server);
    if (found?.type !== 'manual') return Promise.reject(new CredentialRefused(`${server} does not take a token`));
    if (found.validation && !found.validation.test(token)) {
      return Promise.reject(new CredentialRefused(`That is not a ${found.displayName} token.`));
    }
    this.put(session.sub, server, token);
    return Promise.resolve();
  }

  remove(session: BrowserSession, server: string): Promise<void> {
    this.stored.get(session.sub)?.delete(server);
    return Promise.resolve();
  }

  beginConnect(session: BrowserSession, server: string): Promise<URL> {
    const found = this.servers.find((s) => s.server === server);
    if (found?.type !== 'oauth') return Promise.reject(new CredentialRefused(`${server} is not an OAuth service`));
    const url = new URL(found.authorizationUrl);
    url.searchParams.set('state', session.id);
    return Promise.resolve(url);
  }

  completeConnect(session: BrowserSession, server: string, callbackUrl: URL): Promise<string> {
    if (callbackUrl.searchParams.get('state') !== session.id) {
      return Promise.reject(new CredentialRefused('This connection was not started in this browser.'));
    }
    this.put(session.sub, server, callbackUrl.searchParams.get('code') ?? '');
    return Promise.resolve(server);
  }

  private put(sub: string, server: string, secret: string): void {
    const mine = this.stored.get(sub) ?? new Map<string, { secret: string; updatedAt: number }>();
    mine.set(server, { secret, updatedAt: this.now() });
    this.stored.set(sub, mine);
  }
}
