import { constantTimeEqual, sha256Base64Url } from '#crypto';
import type { Logger } from '#observability';
import type { IdpRecheck } from '../../idp/idp-recheck.js';
import type { AuthStore, ClientRecord } from '../../persistence/auth-store.port.js';
import type { ResourceIndicators } from '../../resources/resource-indicator.js';
import type { Revocations } from '../../tokens/revocations.js';
import type { RefreshTokenRotation } from '../../tokens/refresh-token-rotation.js';
import type { TokenIssuer, TokenResponse } from '../../tokens/token-issuer.js';
import { OAuthError } from '../oauth-error.js';
import { required } from '../params.js';

const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export interface TokenGrantsDeps {
  store: AuthStore;
  issuer: TokenIssuer;
  refreshTokens: RefreshTokenRotation;
  revocations: Revocations;
  resources: ResourceIndicators;
  log: Logger;
  /** Asks the identity provider again at each rotation, where the login kept its refresh token. */
  recheck?: Pick<IdpRecheck, 'allows'>;
  now?: () => number;
}

/** The two grants of /token: an authorization code with its PKCE verifier, and refresh-token rotation. */
export class TokenGrants {
  private readonly now: () => number;

  constructor(private readonly deps: TokenGrantsDeps) {
    this.now = deps.now ?? Date.now;
  }

  async authorizationCode(client: ClientRecord, form: URLSearchParams): Promise<TokenResponse> {
    const code = required(form, 'code');
    const verifier = required(form, 'code_verifier');
    const redirectUri = required(form, 'redirect_uri');
    const now = this.now();
    const consumed = await this.deps.store.codes.consume(sha256Base64Url(code), now);
    if (!consumed) throw new OAuthError('invalid_grant', 'unknown authorization code');
    const { record, replayed } = consumed;
    if (replayed) {
      // RFC 6749 §4.1.2: a code used twice may be stolen; what it issued is revoked.
      await this.deps.revocations.revokeGrant(record.grantId, 'authorization code replayed');
      throw new OAuthError('invalid_grant', 'authorization code already used');
    }
    if (record.expiresAt <= now) throw new OAuthError('invalid_grant', 'authorization code expired');
    if (record.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'authorization code was issued to another client');
    if (record.redirectUri !== redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request');
    // S256 (RFC 7636 §4.2): the challenge is BASE64URL(SHA-256(verifier)).
    if (!CODE_VERIFIER.test(verifier) || !constantTimeEqual(sha256Base64Url(verifier), record.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    }
    const grant = await this.deps.store.grants.find(record.grantId);
    if (!grant || grant.revokedAt !== undefined) throw new OAuthError('invalid_grant', 'the authorization was revoked');
    const resources = this.narrowResources(form, grant.resources);
    const refreshToken = withRefresh(client) ? await this.deps.refreshTokens.mint(grant) : undefined;
    this.deps.log.info({ sub: grant.subject.sub, clientId: client.clientId, grantId: grant.id }, 'tokens issued');
    return this.deps.issuer.issue({ ...grant, resources }, refreshToken);
  }

  /**
   * Every check that can fail on the request runs before the token is consumed, so a wrong client
   * or a bad `resource` leaves it to its owner. Reuse outside the grace window ends the grant.
   */
  async refreshToken(client: ClientRecord, form: URLSearchParams): Promise<TokenResponse> {
    if (!withRefresh(client)) throw new OAuthError('unauthorized_client', 'this client did not register the refresh_token grant');
    const now = this.now();
    const presented = await this.deps.store.refreshTokens.find(sha256Base64Url(required(form, 'refresh_token')));
    if (!presented) throw new OAuthError('invalid_grant', 'unknown refresh token');
    const grant = await this.deps.store.grants.find(presented.grantId);
    if (!grant || grant.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'refresh token was issued to another client');
    if (grant.revokedAt !== undefined) throw new OAuthError('invalid_grant', 'grant revoked');
    if (presented.expiresAt <= now) throw new OAuthError('invalid_grant', 'refresh token expired');
    const resources = this.narrowResources(form, grant.resources);
    const outcome = await this.deps.refreshTokens.rotate(presented, grant, now);
    if (outcome.kind === 'gone') throw new OAuthError('invalid_grant', 'unknown refresh token');
    if (outcome.kind === 'reused') {
      // A spent refresh token came back: one of the two holders is a thief, so the family ends.
      await this.deps.revocations.revokeGrant(grant.id, 'refresh token reused');
      throw new OAuthError('invalid_grant', 'refresh token already used; its grant is revoked');
    }
    if (outcome.kind === 'repeated') {
      this.deps.log.info({ clientId: client.clientId, grantId: grant.id }, 'refresh token repeated within the reuse grace window');
    }
    // Only the rotation that won asks: a rotating IdP refresh token is used once.
    if (outcome.kind === 'rotated' && this.deps.recheck && !(await this.deps.recheck.allows(grant))) {
      await this.deps.revocations.revokeGrant(grant.id, 'the identity provider or the access policy refused the person at refresh');
      throw new OAuthError('invalid_grant', 'the identity provider no longer vouches for this person; sign in again');
    }
    return this.deps.issuer.issue({ ...grant, resources }, outcome.refreshToken);
  }

  /** RFC 8707 at /token: `resource` may narrow the granted resources, never widen them. */
  private narrowResources(form: URLSearchParams, granted: string[]): string[] {
    const requested = form.getAll('resource');
    if (requested.length === 0) return granted;
    return requested.map((uri) => {
      const canonical = this.deps.resources.resolve(uri);
      if (canonical === undefined || !granted.includes(canonical)) throw new OAuthError('invalid_target', `${uri} was not granted`);
      return canonical;
    });
  }
}

/** Refresh tokens go to clients that registered the grant (RFC 7591 `grant_types`). */
function withRefresh(client: ClientRecord): boolean {
  return client.grantTypes.includes('refresh_token');
}
