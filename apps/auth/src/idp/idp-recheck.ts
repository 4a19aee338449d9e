import { EnvelopeError, type Envelope } from '#crypto';
import type { Logger } from '#observability';
import type { GrantRecord, GrantRepository } from '../persistence/auth-store.port.js';
import { decideAccess, type AccessPolicy } from './access-policy.js';
import { IdpError } from './idp-error.js';
import type { IdentityProvider } from './identity-provider.port.js';

const aadOf = (grantId: string) => `gatehouse/idp-refresh/v1\u0000${grantId}`;

/**
 * Asks the identity provider again, at each refresh of a grant, whether the person may still come
 * in: where the login gave a refresh token (OIDC and Entra with a refresh token, e.g. the
 * `offline_access` scope), it is kept sealed with the grant, refreshed, and the access policy
 * decided on the answer. Where none was given, a grant ends at its browser session's absolute
 * expiry instead (see LoginFlow).
 */
export class IdpRecheck {
  constructor(
    private readonly deps: { idp: IdentityProvider; policy: AccessPolicy; envelope: Envelope; grants: GrantRepository; log: Logger },
  ) {}

  /** Whether a login's refresh token is worth keeping: only when this provider can use it. */
  get supported(): boolean {
    return this.deps.idp.refresh !== undefined;
  }

  seal(grantId: string, refreshToken: string): string {
    return this.deps.envelope.seal(refreshToken, aadOf(grantId));
  }

  /**
   * False when the identity provider no longer vouches for the person, or the policy refuses who
   * it says they are now. An identity provider that cannot be reached is not a refusal: the next
   * refresh asks again.
   */
  async allows(grant: GrantRecord): Promise<boolean> {
    const { idp, log } = this.deps;
    if (grant.idpRefreshSealed === undefined || idp.refresh === undefined) return true;
    const token = this.open(grant);
    if (token === undefined) return true;
    let answer;
    try {
      answer = await idp.refresh(token);
    } catch (err) {
      if (!(err instanceof IdpError)) throw err;
      if (err.code === 'access_denied') {
        log.warn({ sub: grant.subject.sub, grantId: grant.id }, 'the identity provider refused the refresh: access ends');
        return false;
      }
      log.warn({ sub: grant.subject.sub, grantId: grant.id, reason: err.message }, 'the identity provider could not be asked again');
      return true;
    }
    if (answer.refreshToken !== undefined) await this.deps.grants.keepIdpRefresh(grant.id, this.seal(grant.id, answer.refreshToken));
    if (answer.identity.sub !== grant.subject.sub) return false;
    const decision = decideAccess(answer.identity, this.deps.policy);
    if (!decision.allowed) log.warn({ sub: grant.subject.sub, grantId: grant.id, reason: decision.reason }, 'refused by policy at refresh');
    return decision.allowed;
  }

  private open(grant: GrantRecord): string | undefined {
    try {
      return this.deps.envelope.open(grant.idpRefreshSealed ?? '', aadOf(grant.id));
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      this.deps.log.warn({ grantId: grant.id, code: err.code }, 'the kept IdP refresh token does not open (key removed?)');
      return undefined;
    }
  }
}
