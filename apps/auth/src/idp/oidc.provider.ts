import * as oidc from 'openid-client';
import { authorizationCode, callbackOnRedirectUri, pkceChallenge, safeCode } from './authorization-response.js';
import { IdpError } from './idp-error.js';
import type { Identity } from './identity.js';
import type { IdentityProvider, LoginRequest, Reverified } from './identity-provider.port.js';
import { isNetworkFailure, loadOidcConfiguration, type OidcSource } from './oidc-configuration.js';

/** Turns a verified ID token into an Identity; `userInfo` fetches the userinfo endpoint, for claims the token lacks. */
export type IdentityFromClaims = (idToken: oidc.IDToken, userInfo: () => Promise<oidc.UserInfoResponse | undefined>) => Promise<Identity>;

/** What the authorization request asks for. */
export interface OidcRequest {
  redirectUri: string;
  scopes: string[];
}

/** An OpenID Connect provider through openid-client: code flow with PKCE S256, nonce, and a signature-checked ID token. */
export class OidcIdentityProvider implements IdentityProvider {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly source: OidcSource,
    private readonly request: OidcRequest,
    private readonly toIdentity: IdentityFromClaims,
  ) {}

  async authorizationUrl(login: LoginRequest): Promise<URL> {
    const config = await this.config();
    return oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.request.redirectUri,
      scope: this.request.scopes.join(' '),
      state: login.state,
      nonce: login.nonce,
      code_challenge: pkceChallenge(login.codeVerifier),
      code_challenge_method: 'S256',
    });
  }

  async completeLogin(callbackUrl: URL, login: LoginRequest, keepRefreshToken?: (token: string) => void): Promise<Identity> {
    // Our own checks first, so that errors and foreign responses read the same for every provider.
    authorizationCode(callbackUrl, login);
    const config = await this.config();
    const tokens = await this.redeem(config, callbackOnRedirectUri(this.request.redirectUri, callbackUrl), login);
    const idToken = tokens.claims();
    if (idToken === undefined) throw new IdpError('idp_error', 'The identity provider returned no ID token.');
    const identity = await this.toIdentity(idToken, () => this.userInfo(config, tokens.access_token, idToken.sub));
    if (tokens.refresh_token !== undefined) keepRefreshToken?.(tokens.refresh_token);
    return identity;
  }

  /** A refresh at the identity provider; its new ID token (and userinfo) say who the person is now. */
  async refresh(refreshToken: string): Promise<Reverified> {
    const config = await this.config();
    let tokens;
    try {
      tokens = await oidc.refreshTokenGrant(config, refreshToken);
    } catch (err) {
      // The person was removed, or their sessions at the IdP ended: the IdP no longer vouches for them.
      if (err instanceof oidc.ResponseBodyError && err.error === 'invalid_grant') {
        throw new IdpError('access_denied', 'The identity provider no longer accepts this sign-in.');
      }
      throw oidcFailure(err, 'refresh');
    }
    const idToken = tokens.claims();
    if (idToken === undefined) throw new IdpError('idp_error', 'The identity provider returned no ID token on refresh.');
    const identity = await this.toIdentity(idToken, () => this.userInfo(config, tokens.access_token, idToken.sub));
    return { identity, ...(tokens.refresh_token !== undefined && { refreshToken: tokens.refresh_token }) };
  }

  private config(): Promise<oidc.Configuration> {
    // Discovered once; a failed discovery is retried by the next login rather than remembered.
    this.configuration ??= loadOidcConfiguration(this.source).catch((err: unknown) => {
      this.configuration = undefined;
      throw err;
    });
    return this.configuration;
  }

  private async redeem(config: oidc.Configuration, callback: URL, login: LoginRequest) {
    try {
      return await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: login.codeVerifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw oidcFailure(err, 'sign-in');
    }
  }

  private async userInfo(config: oidc.Configuration, accessToken: string, sub: string): Promise<oidc.UserInfoResponse | undefined> {
    if (!config.serverMetadata().userinfo_endpoint) return undefined;
    try {
      return await oidc.fetchUserInfo(config, accessToken, sub);
    } catch (err) {
      throw oidcFailure(err, 'user info request');
    }
  }
}

/** An openid-client failure as a user-safe IdpError: error codes only, never response bodies (they may hold tokens). */
function oidcFailure(err: unknown, step: string): IdpError {
  if (err instanceof IdpError) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    return err.error === 'access_denied'
      ? new IdpError('access_denied', 'Sign-in was cancelled or refused at the identity provider.')
      : new IdpError('idp_error', `The identity provider reported an error (${safeCode(err.error)}).`);
  }
  if (err instanceof oidc.ResponseBodyError) {
    return new IdpError('idp_error', `The identity provider refused the ${step} (${safeCode(err.error)}).`);
  }
  if (isNetworkFailure(err)) return new IdpError('idp_error', `The identity provider could not be reached (${step}).`);
  if (err instanceof oidc.ClientError) {
    const reason = safeCode(err.code ?? 'unknown');
    return new IdpError('idp_error', `The identity provider's answer to the ${step} failed validation (${reason}).`);
  }
  return new IdpError('idp_error', `The ${step} with the identity provider failed.`);
}
