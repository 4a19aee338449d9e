import type { Identity } from './identity.js';

/** The secrets of one login attempt, kept by the caller between the redirect and the callback. */
export interface LoginRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Who the identity provider says the person is now, and the refresh token to use next time (when it rotated). */
export interface Reverified {
  identity: Identity;
  refreshToken?: string;
}

/** One identity provider: where to send the browser, and who came back. */
export interface IdentityProvider {
  /** Where to send the browser: the IdP's authorization URL with state, PKCE S256 challenge, nonce (OIDC), scopes, redirect_uri. */
  authorizationUrl(login: LoginRequest): Promise<URL>;
  /**
   * Completes the login from the callback's full URL (our redirectUri with the IdP's query). Throws IdpError.
   * `keepRefreshToken` receives the IdP's refresh token, when it gave one and the provider can `refresh`.
   */
  completeLogin(callbackUrl: URL, login: LoginRequest, keepRefreshToken?: (token: string) => void): Promise<Identity>;
  /** Asks again who the person is; IdpError `access_denied` when the IdP no longer vouches for them. Only where supported. */
  refresh?(refreshToken: string): Promise<Reverified>;
}
