import type { BrowserSession } from '../browser/browser-session.port.js';

/** What the person's pages show of one server that needs a credential of theirs. */
export interface CredentialStatus {
  server: string;
  /** userAuthentication.displayName, else the server's name. */
  displayName: string;
  type: 'manual' | 'oauth';
  connected: boolean;
  /** When the credential was stored or last replaced (ms since epoch). */
  updatedAt?: number;
  /** oauth: when the access token expires, if the service said. */
  expiresAt?: number;
  /** manual: the configured instructions and help link, shown beside the form. */
  instructions?: string;
  helpUrl?: string;
}

/** Why a manual token or a connection was refused: shown on the page as it is. */
export class CredentialRefused extends Error {
  override readonly name = 'CredentialRefused';
}

/**
 * Auth's per-user service credentials, as the person's pages use them. Every method acts for
 * `session.sub` only. Secrets go in and never come out of this interface.
 */
export interface UserCredentials {
  /** Every configured server that needs a credential, connected or not, in config order. */
  list(session: BrowserSession): Promise<CredentialStatus[]>;
  /** Stores (or replaces) a `manual` token; throws CredentialRefused when it fails `validation` or the server is not `manual`. */
  setManual(session: BrowserSession, server: string, token: string): Promise<void>;
  /** Deletes the person's credential for the server (`oauth`: revoked at the service first where it offers RFC 7009). */
  remove(session: BrowserSession, server: string): Promise<void>;
  /**
   * Starts an `oauth` connection: returns the service's authorization URL (PKCE S256, `state`
   * bound to `session.id`). Throws CredentialRefused for a server that is not `oauth`.
   */
  beginConnect(session: BrowserSession, server: string): Promise<URL>;
  /**
   * The service sent the person back to `/oauth/callback/{server}`: exchanges the code after
   * checking `state` belongs to `session.id`; returns the server connected.
   * Throws CredentialRefused with a message for the page when it cannot.
   */
  completeConnect(session: BrowserSession, server: string, callbackUrl: URL): Promise<string>;
}
