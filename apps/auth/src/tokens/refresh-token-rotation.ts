import { EnvelopeError, randomId, sha256Base64Url, type Envelope } from '#crypto';
import type { GrantRecord, RefreshTokenRecord, RefreshTokenRepository } from '../persistence/auth-store.port.js';

/**
 * What a presented refresh token was exchanged for: a new successor (`rotated`), the successor
 * it already got, presented again within the grace window (`repeated`), nothing because it is
 * a reuse that must end the grant (`reused`), or nothing because it no longer exists (`gone`).
 */
export type RefreshOutcome = { kind: 'rotated' | 'repeated'; refreshToken: string } | { kind: 'reused' } | { kind: 'gone' };

export interface RefreshTokenRotationOptions {
  /** How long a spent token may be presented again for the same successor; 0 makes every reuse end the grant. */
  reuseGraceMs: number;
}

/**
 * Refresh tokens of a grant's family: opaque, stored by their hash, exchanged once. A spent token
 * keeps its successor sealed for the grace window, so a retry or a second copy of the client that
 * raced the first gets the same successor instead of revoking the grant.
 */
export class RefreshTokenRotation {
  constructor(
    private readonly repository: RefreshTokenRepository,
    private readonly envelope: Envelope,
    private readonly options: RefreshTokenRotationOptions,
  ) {}

  /** The first token of a grant (issued with an authorization code). */
  async mint(grant: GrantRecord): Promise<string> {
    const token = randomId(32);
    await this.repository.insert({ tokenHash: sha256Base64Url(token), grantId: grant.id, expiresAt: grant.expiresAt });
    return token;
  }

  /** Exchanges a token the caller has checked: the client's own, unexpired, of a live grant. */
  async rotate(presented: RefreshTokenRecord, grant: GrantRecord, now: number): Promise<RefreshOutcome> {
    if (presented.usedAt !== undefined) return this.repeat(presented, now);
    // Made before the conditional UPDATE, so marking the token used and recording its successor is one step.
    const token = randomId(32);
    const successor = { tokenHash: sha256Base64Url(token), grantId: grant.id, expiresAt: grant.expiresAt };
    const { reuseGraceMs } = this.options;
    const sealed =
      reuseGraceMs > 0
        ? { sealed: this.envelope.seal(token, successorContext(presented.tokenHash)), until: now + reuseGraceMs }
        : undefined;
    const result = await this.repository.rotate(presented.tokenHash, successor, sealed, now);
    if (result === undefined) return { kind: 'gone' };
    if (!result.replayed) return { kind: 'rotated', refreshToken: token };
    return this.repeat(result.record, now);
  }

  /** A spent token again: its successor while the window lasts and the successor is unspent, else reuse. */
  private async repeat(spent: RefreshTokenRecord, now: number): Promise<RefreshOutcome> {
    const kept = spent.successor;
    if (kept === undefined || now >= kept.until) return { kind: 'reused' };
    const token = this.open(kept.sealed, spent.tokenHash);
    if (token === undefined) return { kind: 'reused' };
    const successor = await this.repository.find(sha256Base64Url(token));
    // Once the successor has been exchanged too, its holder has moved on: this copy is a replay.
    if (successor === undefined || successor.usedAt !== undefined) return { kind: 'reused' };
    return { kind: 'repeated', refreshToken: token };
  }

  /** Undefined when it will not open (another key, altered): a successor we cannot read is none to hand out. */
  private open(sealed: string, spentHash: string): string | undefined {
    try {
      return this.envelope.open(sealed, successorContext(spentHash));
    } catch (err) {
      if (err instanceof EnvelopeError) return undefined;
      throw err;
    }
  }
}

/** Binds a sealed successor to the row of the token it replaced, so it cannot be moved to another. */
function successorContext(spentHash: string): string {
  return `refresh-successor:${spentHash}`;
}
