import type { ServerConfig } from '#config';
import type { Principal } from '#contracts';
import { sha256Base64Url } from '#crypto';
import type { Logger } from '#observability';
import type { CredentialLookup } from '../../credentials/credential-lookup.js';
import type { BackendLogContext } from '../backend.port.js';

/** How long before an oauth token's expiry the session asks auth for the next one. */
export const RENEW_BEFORE_EXPIRY_MS = 60_000;
/** Never sooner than this between two renewals, whatever expiresAt says. */
const MIN_RENEWAL_DELAY_MS = 5_000;
/** The longest delay setTimeout takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

export interface HeldCredentialDeps {
  lookup: CredentialLookup;
  log: Logger;
  context: BackendLogContext;
  /** A renewed token, for the backend's later requests. */
  renewed: (token: string) => void;
}

/**
 * The formatted token one session's backend was given: asked for again shortly before it expires,
 * and once when the upstream refuses it (the refused value's hash tells auth which one failed).
 */
export class HeldCredential {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly server: ServerConfig,
    private readonly principal: Principal,
    private token: string,
    expiresAt: number | undefined,
    private readonly deps: HeldCredentialDeps,
    private readonly now: () => number = Date.now,
  ) {
    this.schedule(expiresAt);
  }

  get current(): string {
    return this.token;
  }

  /** The upstream answered 401: a new token, or why there is none (shown to the client). */
  async refused(): Promise<{ ok: true; token: string } | { ok: false; reason: string }> {
    const name = this.server.name;
    const answer = await this.deps.lookup.get(this.server, this.principal, sha256Base64Url(this.token));
    if (answer.status === 'ok' && answer.token !== this.token) {
      this.take(answer.token, answer.expiresAt);
      return { ok: true, token: answer.token };
    }
    if (answer.status === 'unavailable') return { ok: false, reason: `${name} refused your credential, and ${answer.message}` };
    const where = answer.status === 'missing' && answer.connectUrl !== undefined ? `; connect it again at ${answer.connectUrl}` : '';
    return { ok: false, reason: `${name} refused your credential${where}` };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private take(token: string, expiresAt: number | undefined): void {
    this.token = token;
    this.deps.renewed(token);
    this.schedule(expiresAt);
  }

  private schedule(expiresAt: number | undefined): void {
    clearTimeout(this.timer);
    if (expiresAt === undefined || this.closed) return;
    const delay = Math.max(expiresAt - RENEW_BEFORE_EXPIRY_MS - this.now(), MIN_RENEWAL_DELAY_MS);
    // A timer longer than Node allows (about 24.8 days) would fire at once: wait in steps instead.
    if (delay > MAX_TIMER_MS) {
      this.timer = setTimeout(() => this.schedule(expiresAt), MAX_TIMER_MS);
    } else this.timer = setTimeout(() => void this.renew(), delay);
    this.timer.unref();
  }

  /** Before expiry: the next token if auth has one; otherwise the current one stays until the upstream refuses it. */
  private async renew(): Promise<void> {
    try {
      const answer = await this.deps.lookup.get(this.server, this.principal);
      if (this.closed) return;
      if (answer.status === 'ok') {
        if (answer.token !== this.token) this.deps.log.info(this.deps.context, "renewed the person's credential before it expired");
        this.take(answer.token, answer.expiresAt);
      } else this.deps.log.info({ ...this.deps.context, status: answer.status }, 'no renewed credential before expiry');
    } catch (err) {
      this.deps.log.warn({ ...this.deps.context, err: err instanceof Error ? err.message : String(err) }, 'credential renewal failed');
    }
  }
}
