import { constantTimeEqual, sha256Base64Url } from '#crypto';
import { IdpError } from './idp-error.js';
import type { LoginRequest } from './identity-provider.port.js';

/** The authorization code from the IdP's redirect, once the redirect is known to answer this login and not to report an error. */
export function authorizationCode(callbackUrl: URL, login: LoginRequest): string {
  const params = callbackUrl.searchParams;
  const state = params.get('state');
  if (state === null || !constantTimeEqual(state, login.state)) {
    throw new IdpError('idp_error', 'This sign-in response does not belong to the sign-in that was started here; please start again.');
  }
  const error = params.get('error');
  if (error === 'access_denied') throw new IdpError('access_denied', 'Sign-in was cancelled or refused at the identity provider.');
  if (error !== null) throw new IdpError('idp_error', `The identity provider reported an error (${safeCode(error)}).`);
  const code = params.get('code');
  if (!code) throw new IdpError('idp_error', 'The identity provider returned no authorization code.');
  return code;
}

/** The callback as the IdP addressed it: our configured redirect URI with the response's query (whatever host the request came in on). */
export function callbackOnRedirectUri(redirectUri: string, callbackUrl: URL): URL {
  const url = new URL(redirectUri);
  url.search = callbackUrl.search;
  return url;
}

/** RFC 7636 S256: BASE64URL(SHA-256(code_verifier)). */
export function pkceChallenge(codeVerifier: string): string {
  return sha256Base64Url(codeVerifier);
}

/** An OAuth error code from a URL or a response body, reduced to what is safe to echo to the user. */
export function safeCode(code: string): string {
  return /^[\w.-]{1,64}$/.test(code) ? code : 'unrecognised error';
}
