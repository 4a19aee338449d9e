import { constantTimeEqual } from '#crypto';
import { decodeJwt, type JWTPayload } from 'jose';
import { z } from 'zod';
import { authorizationCode, pkceChallenge, safeCode } from './authorization-response.js';
import { stringClaim, trueClaim } from './claim-values.js';
import { GoogleCallError, GoogleLoginStrategy } from './google-login.strategy.js';
import { withinDeadline } from './idp-deadline.js';
import { IdpError } from './idp-error.js';
import type { IdpSettings } from './idp-settings.js';
import { idpUrl } from './idp-url.js';
import type { Identity } from './identity.js';
import type { IdentityProvider, LoginRequest } from './identity-provider.port.js';

const GOOGLE_SCOPES = 'openid email profile';

// Google's userinfo (OpenID format), as passport keeps it in `_json`.
const ProfileSchema = z.object({
  _json: z.object({
    sub: z.string(),
    email: z.string().optional(),
    email_verified: z.union([z.boolean(), z.string()]).optional(),
    hd: z.string().optional(),
  }),
});
const TokenResultsSchema = z.object({ id_token: z.string() });

/**
 * Google through passport-google-oauth20. The person comes from Google's userinfo, fetched with the access token that the
 * code (bound by PKCE and our client secret) bought directly from the token endpoint. The ID token from that same TLS
 * answer is only checked for our nonce and client id, and must name the same `sub` (OIDC Core 3.1.3.7 allows skipping its
 * signature in this case).
 */
export class GoogleIdentityProvider implements IdentityProvider {
  private readonly strategy: GoogleLoginStrategy;

  constructor(private readonly settings: IdpSettings) {
    const endpoint = (value: string | undefined, name: string) =>
      value === undefined ? undefined : idpUrl(value, settings.devMode, name).href;
    this.strategy = new GoogleLoginStrategy({
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      redirectUri: settings.redirectUri,
      authorizationUrl: endpoint(settings.authorizationUrl, 'authorization URL'),
      tokenUrl: endpoint(settings.tokenUrl, 'token URL'),
      userInfoUrl: endpoint(settings.userInfoUrl, 'userinfo URL'),
    });
  }

  authorizationUrl(login: LoginRequest): Promise<URL> {
    return Promise.resolve(
      this.strategy.authorizeUrl({
        scope: GOOGLE_SCOPES,
        state: login.state,
        nonce: login.nonce,
        code_challenge: pkceChallenge(login.codeVerifier),
        code_challenge_method: 'S256',
      }),
    );
  }

  async completeLogin(callbackUrl: URL, login: LoginRequest): Promise<Identity> {
    const code = authorizationCode(callbackUrl, login);
    const tokens = await googleCall(this.strategy.redeem(code, login.codeVerifier), 'sign-in');
    const idTokenSub = this.boundSubject(tokens.results, login);
    const profile = ProfileSchema.safeParse(await googleCall(this.strategy.profile(tokens.accessToken), 'user info request'));
    if (!profile.success) throw new IdpError('idp_error', "Google's user info was not understood.");
    const person = profile.data._json;
    if (person.sub !== idTokenSub) throw new IdpError('idp_error', "Google's user info is about a different account than its ID token.");
    if (person.email === undefined) throw new IdpError('access_denied', 'Google did not share an email address for this account.');
    const hostedDomain = stringClaim(person.hd);
    return {
      sub: `google:${person.sub}`,
      email: person.email.toLowerCase(),
      emailVerified: trueClaim(person.email_verified),
      ...(hostedDomain === undefined ? {} : { hostedDomain }),
      groups: [],
      orgs: [],
    };
  }

  /** The `sub` of the ID token that came with the access token, once it is known to answer this login for this client. */
  private boundSubject(results: unknown, login: LoginRequest): string {
    const tokens = TokenResultsSchema.safeParse(results);
    if (!tokens.success) throw new IdpError('idp_error', 'Google returned no ID token.');
    let claims: JWTPayload;
    try {
      claims = decodeJwt(tokens.data.id_token);
    } catch {
      throw new IdpError('idp_error', "Google's ID token was not understood.");
    }
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const fresh = typeof claims.exp === 'number' && claims.exp * 1000 > Date.now();
    const ours =
      typeof claims.nonce === 'string' && constantTimeEqual(claims.nonce, login.nonce) && audiences.includes(this.settings.clientId);
    if (!fresh || !ours || claims.sub === undefined) throw new IdpError('idp_error', "Google's ID token does not belong to this sign-in.");
    return claims.sub;
  }
}

/** A call through passport's OAuth2 client, bounded in time, failing with a user-safe IdpError. */
async function googleCall<T>(work: Promise<T>, step: string): Promise<T> {
  try {
    return await withinDeadline(work, step);
  } catch (err) {
    if (err instanceof IdpError) throw err;
    if (err instanceof GoogleCallError && err.status !== undefined) {
      const reason = err.oauthError === undefined ? `HTTP ${err.status}` : safeCode(err.oauthError);
      throw new IdpError('idp_error', `Google refused the ${step} (${reason}).`);
    }
    throw new IdpError('idp_error', `Google could not be reached (${step}).`);
  }
}
