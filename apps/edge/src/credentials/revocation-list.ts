import { BusNoRespondersError, BusTimeoutError, type Bus } from '#bus';
import {
  decode,
  encode,
  RevocationsListReplySchema,
  RevocationsListRequestSchema,
  revocationsListSubject,
  type Revocation,
} from '#contracts';
import type { Logger } from '#observability';

const REQUEST_TIMEOUT_MS = 2_000;
/** An edge that missed an event (started late, lost the connection) catches up within this. */
const SYNC_MS = 30_000;
const PRUNE_MS = 60_000;

export interface RevocationListOptions {
  log: Logger;
  /** Epoch milliseconds. */
  now: () => number;
  /** How long past `until` an entry is kept: a token is accepted that long past its expiry. */
  graceMs: number;
}

/** The deny set of revoked token ids (`jti`) and grants (`gid`), each kept until the last token it covers has expired. */
export class RevocationList {
  private readonly jtis = new Map<string, number>();
  private readonly grants = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly options: RevocationListOptions,
  ) {}

  /** Asks auth for every active revocation, and again periodically for those an edge may have missed; events arrive through `add`. */
  async start(): Promise<void> {
    this.timers = [setInterval(() => void this.sync(), SYNC_MS).unref(), setInterval(() => this.prune(), PRUNE_MS).unref()];
    await this.sync();
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  isRevoked(jti: string, grantId: string | undefined): boolean {
    const now = this.options.now();
    const denied = (map: Map<string, number>, value: string | undefined) => {
      const until = value === undefined ? undefined : map.get(value);
      return until !== undefined && until + this.options.graceMs > now;
    };
    return denied(this.jtis, jti) || denied(this.grants, grantId);
  }

  add(revocation: Revocation): void {
    const map = revocation.kind === 'jti' ? this.jtis : this.grants;
    map.set(revocation.value, Math.max(map.get(revocation.value) ?? -Infinity, revocation.until));
  }

  /** Asks auth for every active revocation; when auth is not answering, the next sync tries again. */
  async sync(): Promise<void> {
    try {
      const answer = await this.bus.request(revocationsListSubject, encode(RevocationsListRequestSchema, {}), {
        timeoutMs: REQUEST_TIMEOUT_MS,
      });
      const decoded = decode(RevocationsListReplySchema, answer.data);
      if (!decoded.ok) return this.options.log.warn({ error: decoded.error }, 'malformed revocations list from auth, ignored');
      for (const revocation of decoded.value.revocations) this.add(revocation);
    } catch (err) {
      if (!(err instanceof BusNoRespondersError || err instanceof BusTimeoutError))
        this.options.log.warn({ err }, 'revocations request failed');
    }
  }

  get size(): number {
    return this.jtis.size + this.grants.size;
  }

  /** Drops entries whose tokens have all expired. */
  prune(): void {
    const horizon = this.options.now() - this.options.graceMs;
    for (const map of [this.jtis, this.grants]) {
      for (const [value, until] of map) if (until <= horizon) map.delete(value);
    }
  }
}
