import type { Bus } from '#bus';
import { encode, TokenRevokedEventSchema, tokenRevokedSubject, type Revocation } from '#contracts';
import type { Logger } from '#observability';
import type { AuthStore } from '../persistence/auth-store.port.js';

/** Margin past a token's expiry for edges whose clocks run behind. */
const SKEW_MS = 60_000;

/** Records revocations and tells every edge, which deny the token or grant from then on. */
export class Revocations {
  constructor(
    private readonly store: AuthStore,
    private readonly bus: Bus,
    private readonly options: { tokenTtlMs: number; log: Logger },
  ) {}

  /** One access token, denied until it expires. */
  async revokeAccessToken(jti: string, expiresAtMs: number): Promise<void> {
    await this.record({ kind: 'jti', value: jti, until: expiresAtMs + SKEW_MS });
  }

  /** A grant: its refresh tokens stop working at once, its access tokens are denied until the last expires. */
  async revokeGrant(grantId: string, why: string): Promise<void> {
    const now = Date.now();
    await this.store.grants.revoke(grantId, now);
    this.options.log.warn({ grantId, why }, 'grant revoked');
    await this.record({ kind: 'grant', value: grantId, until: now + this.options.tokenTtlMs + SKEW_MS });
  }

  private async record(revocation: Revocation): Promise<void> {
    await this.store.revocations.insert(revocation);
    this.bus.publish(tokenRevokedSubject, encode(TokenRevokedEventSchema, revocation));
  }
}
