import { SignJWT } from 'jose';
import { randomId } from '#crypto';
import type { GrantRecord } from '../persistence/auth-store.port.js';
import type { SigningKeys } from './signing-keys.js';

/** The JSON of a successful token response (RFC 6749 §5.1). */
export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

/**
 * Issues an access token (an ES256 JWT for the grant's resources, RFC 9068 `at+jwt`), answered
 * with the refresh token the caller got from RefreshTokenRotation, if any.
 */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeys,
    private readonly options: { issuer: string; tokenTtlMs: number; now?: () => number },
  ) {}

  async issue(grant: GrantRecord, refreshToken: string | undefined): Promise<TokenResponse> {
    const now = this.options.now?.() ?? Date.now();
    const expiresIn = Math.floor(this.options.tokenTtlMs / 1000);
    const { kid, key } = this.keys.current();
    const accessToken = await new SignJWT({
      email: grant.subject.email,
      ...(grant.subject.groups.length > 0 && { groups: grant.subject.groups }),
      client_id: grant.clientId,
      scope: grant.scope,
      gid: grant.id,
    })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(this.options.issuer)
      .setSubject(grant.subject.sub)
      .setAudience(grant.resources)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + expiresIn)
      .setJti(randomId())
      .sign(key);
    const response: TokenResponse = { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, scope: grant.scope };
    return refreshToken === undefined ? response : { ...response, refresh_token: refreshToken };
  }
}
