import type { UserCredentialRecord, UserCredentialRepository } from '../persistence/auth-store.port.js';
import { RefreshFailed, type IssuedTokens } from './oauth-connection.js';
import type { SealedSecrets, StoredSecret } from './sealed-secret.js';

/** A credential as it was read, opened. */
export interface OpenedCredential {
  record: UserCredentialRecord;
  secret: StoredSecret;
}

export interface LockedRefreshOptions {
  /**
   * How long a holder may take before another replica may take the lock over (it crashed): clearly longer than the worst
   * case of what runs under the lock (a token request, bounded at 10 s; the service's endpoints are resolved before it).
   */
  lockMs: number;
  /** How long a caller waits for another's refresh before answering `unavailable`. */
  waitMs: number;
  pollMs: number;
  now: () => number;
}

export const DEFAULT_LOCKED_REFRESH: Omit<LockedRefreshOptions, 'now'> = { lockMs: 120_000, waitMs: 15_000, pollMs: 100 };

/**
 * One refresh at a time per (sub, server) across every auth replica: the database row's lock column
 * is taken with a conditional UPDATE; whoever does not get it waits for the row to change and uses
 * the token the holder stored (a rotating refresh token must never be spent twice).
 */
export class LockedRefresh {
  constructor(
    private readonly credentials: UserCredentialRepository,
    private readonly secrets: SealedSecrets,
    private readonly options: LockedRefreshOptions,
  ) {}

  /**
   * The fresh credential, or undefined when it is gone (deleted, or its grant ended). Throws RefreshFailed when not now.
   * `discard` is given tokens the service issued that could not be stored (the credential was deleted or replaced meanwhile),
   * to revoke them at the service; its failure is ignored.
   */
  async refresh(
    seen: OpenedCredential,
    refresh: (secret: StoredSecret) => Promise<IssuedTokens>,
    discard: (secret: StoredSecret) => Promise<void> = async () => {},
  ): Promise<OpenedCredential | undefined> {
    const { sub, server } = seen.record;
    const deadline = this.options.now() + this.options.waitMs;
    for (;;) {
      const now = this.options.now();
      const until = now + this.options.lockMs;
      if (await this.credentials.lock(sub, server, now, until)) {
        try {
          return await this.asHolder(seen, refresh, discard);
        } finally {
          // Fenced: once our lock ran out and another replica took it, theirs is not ours to release.
          await this.credentials.unlock(sub, server, until);
        }
      }
      const current = await this.credentials.find(sub, server);
      if (current === undefined) return undefined;
      if (current.sealedSecret !== seen.record.sealedSecret) return await this.secrets.openRecord(current);
      if (this.options.now() >= deadline) throw new RefreshFailed(false, 'another refresh of this credential is taking too long');
      await new Promise((resolve) => setTimeout(resolve, this.options.pollMs));
    }
  }

  private async asHolder(
    seen: OpenedCredential,
    refresh: (secret: StoredSecret) => Promise<IssuedTokens>,
    discard: (secret: StoredSecret) => Promise<void>,
  ): Promise<OpenedCredential | undefined> {
    const { sub, server } = seen.record;
    // Another replica may have refreshed between our read and our lock: use its token, do not spend the refresh token again.
    const current = await this.credentials.find(sub, server);
    if (current === undefined) return undefined;
    if (current.sealedSecret !== seen.record.sealedSecret) return await this.secrets.openRecord(current);
    let tokens: IssuedTokens;
    try {
      tokens = await refresh(seen.secret);
    } catch (err) {
      if (err instanceof RefreshFailed && err.permanent) {
        await this.credentials.delete(sub, server);
        return undefined;
      }
      throw err;
    }
    // The expiry is the new token's: a service that states none leaves it unknown, not the old one's.
    const record: UserCredentialRecord = {
      sub,
      server,
      ...(current.email !== undefined && { email: current.email }),
      type: current.type,
      sealedSecret: this.secrets.seal(sub, server, tokens.secret),
      createdAt: current.createdAt,
      updatedAt: this.options.now(),
      ...(tokens.expiresAt !== undefined && { expiresAt: tokens.expiresAt }),
    };
    // Conditional, never an insert: a credential the person removed during the refresh stays removed.
    if (await this.credentials.replaceSecret(sub, server, current.sealedSecret, record)) return { record, secret: tokens.secret };
    await discard(tokens.secret).catch(() => undefined);
    const stored = await this.credentials.find(sub, server);
    return stored === undefined ? undefined : await this.secrets.openRecord(stored);
  }
}
