import type { Identity } from './identity.js';

/** The secrets of one login attempt, kept by the caller between the redirect and the callback. */
export interface LoginRequest {
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** One identity provider: where to send the browser, and who came back. */
export interface IdentityProvider {
  /** Where to send the browser: the IdP's authorization URL with state, PKCE S256 challenge, nonce (OIDC), scopes, redirect_uri. */
  authorizationUrl(login: LoginRequest): Promise<URL>;
  /** Completes the login from the callback's full URL (our redirectUri with the IdP's query). Throws IdpError. */
  completeLogin(callbackUrl: URL, login: LoginRequest): Promise<Identity>;
}
