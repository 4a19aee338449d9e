import * as oidc from 'openid-client';
import { EnvelopeError, sha256Base64Url } from '#crypto';
import type { AuthStore } from '../persistence/auth-store.port.js';
import type { BrowserSession } from '../browser/browser-session.port.js';
import { isNetworkFailure } from '../idp/oidc-configuration.js';
import { OutboundFailure } from './bounded-fetch.js';
import type { SealedSecrets, StoredSecret } from './sealed-secret.js';
import type { OAuthServer, UpstreamServer, UpstreamServers } from './upstream-servers.js';
import { CredentialRefused } from './user-credentials.port.js';

/** How long a person has at the service between /oauth/connect and the callback. */
export const UPSTREAM_AUTHORIZATION_TTL_MS = 10 * 60_000;

const verifierAad = (stateHash: string) => `upstream-pkce\u0000${stateHash}`;

/** Tokens the service issued, as stored. */
export interface IssuedTokens {
  secret: StoredSecret;
  expiresAt?: number;
}

/** Why a refresh did not give a token: the grant is gone for good (`invalid_grant`), or the service could not be used now. */
export class RefreshFailed extends Error {
  override readonly name = 'RefreshFailed';

  constructor(
    readonly permanent: boolean,
    message: string,
  ) {
    super(message);
  }
}

/** The authorization-code flow with a service (PKCE S256, state bound to the browser session), its refresh and its revocation. */
export class OAuthConnections {
  constructor(
    private readonly store: AuthStore,
    private readonly upstream: UpstreamServers,
    private readonly secrets: SealedSecrets,
    private readonly now: () => number,
  ) {}

  async begin(session: BrowserSession, server: OAuthServer): Promise<URL> {
    const upstream = await this.resolveForPerson(server);
    const state = oidc.randomState();
    const verifier = oidc.randomPKCECodeVerifier();
    const stateHash = sha256Base64Url(state);
    const now = this.now();
    await this.store.upstreamAuthorizations.insert({
      stateHash,
      sessionId: session.id,
      sub: session.sub,
      ...(session.email !== undefined && { email: session.email }),
      server: server.name,
      sealedVerifier: this.secrets.sealValue(verifier, verifierAad(stateHash)),
      createdAt: now,
      expiresAt: now + UPSTREAM_AUTHORIZATION_TTL_MS,
    });
    return oidc.buildAuthorizationUrl(upstream.config, {
      redirect_uri: this.upstream.redirectUri(server.name),
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      ...(upstream.scopes.length > 0 && { scope: upstream.scopes.join(' ') }),
      ...(upstream.resource !== undefined && { resource: upstream.resource }),
    });
  }

  /** Checks the callback belongs to this session's pending authorization (one use), then redeems the code. */
  async complete(session: BrowserSession, server: OAuthServer, callbackUrl: URL): Promise<IssuedTokens> {
    const name = server.userAuthentication.displayName;
    const state = callbackUrl.searchParams.get('state');
    const refused = new CredentialRefused(
      `This ${name} connection has expired or was started elsewhere; start it again from your tokens page.`,
    );
    if (!state) throw refused;
    const stateHash = sha256Base64Url(state);
    // Checked before it is used up: a callback from another session (someone who learnt the state) must not burn the person's attempt.
    const found = await this.store.upstreamAuthorizations.find(stateHash, this.now());
    if (found === undefined || found.sessionId !== session.id || found.sub !== session.sub || found.server !== server.name) throw refused;
    const pending = await this.store.upstreamAuthorizations.take(stateHash, this.now());
    if (pending === undefined) throw refused;
    const upstream = await this.resolveForPerson(server);
    let verifier: string;
    try {
      verifier = this.secrets.openValue(pending.sealedVerifier, verifierAad(pending.stateHash));
    } catch (err) {
      if (err instanceof EnvelopeError) throw refused;
      throw err;
    }
    try {
      const tokens = await oidc.authorizationCodeGrant(
        upstream.config,
        this.callbackAtRedirectUri(server.name, callbackUrl, upstream),
        { pkceCodeVerifier: verifier, expectedState: state },
        upstream.resource !== undefined ? { resource: upstream.resource } : undefined,
      );
      return issued(tokens, undefined, this.now());
    } catch (err) {
      await this.forgetRefusedClient(server, err);
      throw connectFailure(err, name);
    }
  }

  /**
   * Resolves the service's endpoints (discovery, registration: several outbound calls) and returns the refresh to run with
   * them, so that only the token request itself runs under the refresh lock.
   */
  async refresher(server: OAuthServer): Promise<(secret: StoredSecret) => Promise<IssuedTokens>> {
    let upstream: UpstreamServer;
    try {
      upstream = await this.upstream.resolve(server);
    } catch (err) {
      const name = server.userAuthentication.displayName;
      throw new RefreshFailed(false, `${name} could not refresh the connection now (${failureCode(err)})`);
    }
    return (secret) => this.refresh(server, secret, upstream);
  }

  /** New tokens for the stored refresh token; a rotated refresh token replaces it, the old one is kept when none is given. */
  async refresh(server: OAuthServer, secret: StoredSecret, resolved?: UpstreamServer): Promise<IssuedTokens> {
    const name = server.userAuthentication.displayName;
    if (secret.refreshToken === undefined) throw new RefreshFailed(true, `${name} gave no refresh token`);
    try {
      const upstream = resolved ?? (await this.upstream.resolve(server));
      const tokens = await oidc.refreshTokenGrant(
        upstream.config,
        secret.refreshToken,
        upstream.resource !== undefined ? { resource: upstream.resource } : undefined,
      );
      return issued(tokens, secret, this.now());
    } catch (err) {
      await this.forgetRefusedClient(server, err);
      if (oauthErrorCode(err) === 'invalid_grant') {
        throw new RefreshFailed(true, `${name} no longer accepts the connection (invalid_grant)`);
      }
      throw new RefreshFailed(false, `${name} could not refresh the connection now (${failureCode(err)})`);
    }
  }

  /** RFC 7009 at the service, when its metadata names a revocation endpoint; false when there is none. Throws on failure. */
  async revoke(server: OAuthServer, secret: StoredSecret): Promise<boolean> {
    const upstream = await this.upstream.resolve(server);
    if (upstream.config.serverMetadata().revocation_endpoint === undefined) return false;
    // Revoking the refresh token ends the grant at most services; the access token is revoked too for those where it does not.
    if (secret.refreshToken !== undefined)
      await oidc.tokenRevocation(upstream.config, secret.refreshToken, { token_type_hint: 'refresh_token' });
    await oidc.tokenRevocation(upstream.config, secret.token, { token_type_hint: 'access_token' });
    return true;
  }

  /** The service's endpoints for the person's pages: failing to reach it (or to open its stored client) is a refusal they can read, not a 500. */
  private async resolveForPerson(server: OAuthServer): Promise<UpstreamServer> {
    try {
      return await this.upstream.resolve(server);
    } catch (err) {
      if (err instanceof OutboundFailure || err instanceof EnvelopeError || isNetworkFailure(err)) {
        throw new CredentialRefused(`${server.userAuthentication.displayName} could not be reached; try again in a moment.`);
      }
      throw err;
    }
  }

  private async forgetRefusedClient(server: OAuthServer, err: unknown): Promise<void> {
    if (oauthErrorCode(err) === 'invalid_client') await this.upstream.forgetRegistration(server);
  }

  /** The parameters the service sent, on the redirect URI it was given (the URL auth saw may be the relay's). */
  private callbackAtRedirectUri(server: string, callbackUrl: URL, upstream: UpstreamServer): URL {
    const url = new URL(this.upstream.redirectUri(server));
    for (const [key, value] of callbackUrl.searchParams) {
      // Nothing to check `iss` against when the issuer is not known (configured endpoints only).
      if (key !== 'iss' || upstream.issuerKnown) url.searchParams.append(key, value);
    }
    return url;
  }
}

function issued(
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  previous: StoredSecret | undefined,
  now: number,
): IssuedTokens {
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
  const scope = tokens.scope ?? previous?.scope;
  const expiresIn = tokens.expiresIn();
  return {
    secret: { token: tokens.access_token, ...(refreshToken !== undefined && { refreshToken }), ...(scope !== undefined && { scope }) },
    ...(expiresIn !== undefined && { expiresAt: now + expiresIn * 1000 }),
  };
}

/** For the page: what happened and what to do, never a response body (it may carry tokens). */
function connectFailure(err: unknown, name: string): Error {
  if (err instanceof CredentialRefused) return err;
  if (err instanceof oidc.AuthorizationResponseError) {
    return err.error === 'access_denied'
      ? new CredentialRefused(`The connection to ${name} was cancelled or refused at ${name}.`)
      : new CredentialRefused(`${name} reported an error (${safeCode(err.error)}); try connecting again.`);
  }
  const code = oauthErrorCode(err);
  if (code !== undefined) return new CredentialRefused(`${name} refused the connection (${safeCode(code)}); try connecting again.`);
  if (err instanceof OutboundFailure || isNetworkFailure(err))
    return new CredentialRefused(`${name} could not be reached; try again in a moment.`);
  return new CredentialRefused(`The connection to ${name} failed (${failureCode(err)}); try connecting again.`);
}

/** The OAuth error of a token-endpoint answer: in its JSON body, or in the WWW-Authenticate challenge of a 401 (client authentication failed). */
function oauthErrorCode(err: unknown): string | undefined {
  if (err instanceof oidc.ResponseBodyError) return err.error;
  if (err instanceof oidc.WWWAuthenticateChallengeError) {
    return (
      err.cause.find((challenge) => challenge.parameters.error)?.parameters.error ?? (err.status === 401 ? 'invalid_client' : undefined)
    );
  }
  return undefined;
}

function failureCode(err: unknown): string {
  const code = oauthErrorCode(err);
  if (code !== undefined) return safeCode(code);
  if (err instanceof OutboundFailure || isNetworkFailure(err)) return 'unreachable';
  if (err instanceof oidc.ClientError) return safeCode(err.code ?? 'invalid response');
  return 'unexpected error';
}

/** OAuth error codes are a restricted charset (RFC 6749 §5.2); anything else is not echoed. */
const safeCode = (code: string) => (/^[\x20-\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(code) ? code : 'error');
