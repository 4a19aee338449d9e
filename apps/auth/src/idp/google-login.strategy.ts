import { z } from 'zod';
import { Strategy as GoogleStrategy } from 'passport-google-oauth20';

/** Where passport-google-oauth20 should talk; undefined means Google's own endpoints. */
export interface GoogleEndpoints {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  authorizationUrl: string | undefined;
  tokenUrl: string | undefined;
  userInfoUrl: string | undefined;
}

/** What the token endpoint answered, as passport's OAuth2 client hands it over. */
export interface GoogleTokens {
  accessToken: string;
  results: unknown;
}

/** A failed call to Google (or its stand-in): the HTTP status and OAuth error code when there was an answer, neither when there was none. */
export class GoogleCallError extends Error {
  constructor(
    readonly status: number | undefined,
    readonly oauthError: string | undefined,
  ) {
    super(status === undefined ? 'no answer' : `HTTP ${status}${oauthError === undefined ? '' : ` ${oauthError}`}`);
    this.name = 'GoogleCallError';
  }
}

/**
 * passport-google-oauth20 driven one step at a time instead of through `authenticate()`: we build the authorization URL
 * with our state, nonce and PKCE challenge, redeem the code with our verifier, and load Google's userinfo profile.
 * `_oauth2` is the client passport documents as open to subclasses.
 */
export class GoogleLoginStrategy extends GoogleStrategy {
  constructor(private readonly endpoints: GoogleEndpoints) {
    super(
      {
        clientID: endpoints.clientId,
        clientSecret: endpoints.clientSecret,
        callbackURL: endpoints.redirectUri,
        authorizationURL: endpoints.authorizationUrl,
        tokenURL: endpoints.tokenUrl,
        userProfileURL: endpoints.userInfoUrl,
      },
      // authenticate() is never called, so neither is this verify callback.
      (_accessToken, _refreshToken, _profile, done) => done(new Error('GoogleLoginStrategy is driven step by step')),
    );
    // The access token goes in an Authorization header, not in the userinfo URL's query string.
    this._oauth2.useAuthorizationHeaderforGET(true);
  }

  authorizeUrl(params: Record<string, string>): URL {
    return new URL(this._oauth2.getAuthorizeUrl({ ...params, response_type: 'code', redirect_uri: this.endpoints.redirectUri }));
  }

  redeem(code: string, codeVerifier: string): Promise<GoogleTokens> {
    const params = { grant_type: 'authorization_code', redirect_uri: this.endpoints.redirectUri, code_verifier: codeVerifier };
    return new Promise((resolve, reject) => {
      this._oauth2.getOAuthAccessToken(code, params, (err: unknown, accessToken?: string, _refresh?: string, results?: unknown) => {
        if (err) reject(callError(err));
        else if (!accessToken) reject(new GoogleCallError(200, 'no_access_token'));
        else resolve({ accessToken, results });
      });
    });
  }

  profile(accessToken: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.userProfile(accessToken, (err?: unknown, profile?: unknown) => (err ? reject(callError(err)) : resolve(profile)));
    });
  }
}

// The OAuth2 client fails with { statusCode, data }; passport's profile errors wrap that as `oauthError`.
const FailedCallSchema = z.object({ statusCode: z.number().optional(), data: z.string().optional() });
const WrappedFailureSchema = z.object({ oauthError: FailedCallSchema });
const OAuthErrorBodySchema = z.object({ error: z.string() });

/** Keeps only the HTTP status and OAuth error code of a failure, never the request or the whole body (they may carry secrets). */
function callError(err: unknown): GoogleCallError {
  const wrapped = WrappedFailureSchema.safeParse(err);
  const failed = wrapped.success ? wrapped.data.oauthError : FailedCallSchema.safeParse(err).data;
  return new GoogleCallError(failed?.statusCode, oauthErrorCode(failed?.data));
}

function oauthErrorCode(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    return OAuthErrorBodySchema.safeParse(JSON.parse(body)).data?.error;
  } catch {
    return undefined;
  }
}
