import { z } from 'zod';
import { authorizationCode, pkceChallenge, safeCode } from './authorization-response.js';
import { type Fetch, GitHubApi, githubCall, readJson } from './github-api.js';
import { IdpError } from './idp-error.js';
import type { IdpSettings } from './idp-settings.js';
import { idpUrl } from './idp-url.js';
import type { Identity } from './identity.js';
import type { IdentityProvider, LoginRequest } from './identity-provider.port.js';

const GITHUB = {
  authorization: 'https://github.com/login/oauth/authorize',
  token: 'https://github.com/login/oauth/access_token',
  user: 'https://api.github.com/user',
};

// GitHub answers token errors with 200 and an `error` field.
const TokenResponseSchema = z.union([z.object({ access_token: z.string() }), z.object({ error: z.string() })]);

/** GitHub's OAuth web flow (PKCE S256 and state; GitHub has no OIDC), then the REST API for the account, its emails and orgs. */
export class GitHubIdentityProvider implements IdentityProvider {
  private readonly authorizationEndpoint: URL;
  private readonly tokenEndpoint: URL;
  private readonly userEndpoint: URL;

  constructor(
    private readonly settings: IdpSettings,
    private readonly fetchFn: Fetch = fetch,
  ) {
    this.authorizationEndpoint = idpUrl(settings.authorizationUrl ?? GITHUB.authorization, settings.devMode, 'authorization URL');
    this.tokenEndpoint = idpUrl(settings.tokenUrl ?? GITHUB.token, settings.devMode, 'token URL');
    this.userEndpoint = idpUrl(settings.userInfoUrl ?? GITHUB.user, settings.devMode, 'user API URL');
  }

  authorizationUrl(login: LoginRequest): Promise<URL> {
    const url = new URL(this.authorizationEndpoint);
    const scopes = ['read:user', 'user:email', ...(this.settings.allowedOrgs.length > 0 ? ['read:org'] : [])];
    url.searchParams.set('client_id', this.settings.clientId);
    url.searchParams.set('redirect_uri', this.settings.redirectUri);
    url.searchParams.set('scope', scopes.join(' '));
    url.searchParams.set('state', login.state);
    url.searchParams.set('code_challenge', pkceChallenge(login.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    url.searchParams.set('allow_signup', 'false');
    return Promise.resolve(url);
  }

  async completeLogin(callbackUrl: URL, login: LoginRequest): Promise<Identity> {
    const code = authorizationCode(callbackUrl, login);
    const api = new GitHubApi(this.fetchFn, this.userEndpoint, await this.redeem(code, login));
    const user = await api.user();
    const email = await api.primaryVerifiedEmail();
    if (email === undefined) throw new IdpError('access_denied', `The GitHub account ${user.login} has no verified primary email address.`);
    return { sub: `github:${user.id}`, email: email.toLowerCase(), emailVerified: true, groups: [], orgs: await api.orgLogins() };
  }

  private async redeem(code: string, login: LoginRequest): Promise<string> {
    const response = await githubCall(this.fetchFn, this.tokenEndpoint, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: this.settings.clientId,
        client_secret: this.settings.clientSecret,
        code,
        redirect_uri: this.settings.redirectUri,
        code_verifier: login.codeVerifier,
      }),
    });
    const answer = TokenResponseSchema.safeParse(await readJson(response));
    if (!response.ok || !answer.success) throw new IdpError('idp_error', `GitHub refused the sign-in (HTTP ${response.status}).`);
    if ('error' in answer.data) throw new IdpError('idp_error', `GitHub refused the sign-in (${safeCode(answer.data.error)}).`);
    return answer.data.access_token;
  }
}
