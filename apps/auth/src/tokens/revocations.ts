import type { Bus } from '#bus';
import { encode, TokenRevokedEventSchema, tokenRevokedSubject, type Revocation } from '#contracts';
import type { Logger } from '#observability';
import { noAuditRecorder, type AuditRecorder } from '../audit/audit-log.js';
import type { AuthStore } from '../persistence/auth-store.port.js';

/** Margin past a token's expiry for edges whose clocks run behind. */
const SKEW_MS = 60_000;

/** Records revocations and tells every edge, which deny the token or grant from then on. */
export class Revocations {
  constructor(
    private readonly store: AuthStore,
    private readonly bus: Bus,
    private readonly options: { tokenTtlMs: number; log: Logger; audit?: AuditRecorder },
  ) {}

  private get audit(): AuditRecorder {
    return this.options.audit ?? noAuditRecorder;
  }

  /** One access token, denied until it expires; `holder` is whose token it was, for the audit trail. */
  async revokeAccessToken(jti: string, expiresAtMs: number, holder: { sub?: string; clientId?: string } = {}): Promise<void> {
    await this.record({ kind: 'jti', value: jti, until: expiresAtMs + SKEW_MS });
    this.audit.record({ at: Date.now(), kind: 'revocation', outcome: 'ok', detail: 'access token revoked by its client', ...holder });
  }

  /** A grant: its refresh tokens stop working at once, its access tokens are denied until the last expires. */
  async revokeGrant(grantId: string, why: string): Promise<void> {
    const now = Date.now();
    await this.store.grants.revoke(grantId, now);
    this.options.log.warn({ grantId, why }, 'grant revoked');
    const grant = await this.store.grants.find(grantId);
    const { sub, email } = grant?.subject ?? {};
    this.audit.record({
      at: now,
      kind: 'revocation',
      outcome: 'ok',
      detail: `grant: ${why}`,
      ...(sub !== undefined && { sub }),
      ...(email !== undefined && email !== '' && { email }),
      ...(grant && { clientId: grant.clientId }),
    });
    await this.record({ kind: 'grant', value: grantId, until: now + this.options.tokenTtlMs + SKEW_MS });
  }

  private async record(revocation: Revocation): Promise<void> {
    await this.store.revocations.insert(revocation);
    this.bus.publish(tokenRevokedSubject, encode(TokenRevokedEventSchema, revocation));
  }
}
