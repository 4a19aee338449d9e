import { createPublicKey, type KeyObject } from 'node:crypto';
import { BusNoRespondersError, BusTimeoutError, type Bus } from '#bus';
import { AuthJwksReplySchema, AuthJwksRequestSchema, authJwksSubject, decode, encode, type AuthJwksReply } from '#contracts';
import type { Logger } from '#observability';

const REQUEST_TIMEOUT_MS = 2_000;
/** A kid nobody knows must not turn every garbage token into a request to auth. */
const MIN_FETCH_INTERVAL_MS = 2_000;
const REFRESH_MS = 5 * 60_000;
const RETRY_FIRST_MS = 1_000;
/** Until auth has answered once the edge is not ready, so it asks often: auth is usually starting too. */
const FIRST_LOAD_RETRY_MS = 250;
const RETRY_MAX_MS = 30_000;

export interface AuthPublicKeysOptions {
  log: Logger;
  /** Epoch milliseconds. */
  now: () => number;
  /** Told when a key auth used to publish is gone, so tokens it signed stop being trusted. */
  onKeyRemoved: () => void;
}

/** Auth's public ES256 keys by `kid`, fetched over the bus: at start, periodically, and on an unknown kid. */
export class AuthPublicKeys {
  private keys = new Map<string, KeyObject>();
  private loaded = false;
  private fetching: Promise<void> | undefined;
  private lastFetchAt = -Infinity;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly bus: Bus,
    private readonly options: AuthPublicKeysOptions,
  ) {}

  /** Fetches once; when auth is not answering yet, keeps trying in the background instead of failing. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The key named `kid` if it is known now; nothing is fetched. */
  known(kid: string): KeyObject | undefined {
    return this.keys.get(kid);
  }

  /** The key named `kid`, refetching (throttled, shared by concurrent misses) when it is not known. */
  async key(kid: string): Promise<KeyObject | undefined> {
    const known = this.known(kid);
    if (known || this.stopped) return known;
    if (this.fetching) await this.fetching;
    else if (this.options.now() - this.lastFetchAt >= MIN_FETCH_INTERVAL_MS) await this.refresh();
    return this.keys.get(kid);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Whether the keys are auth's latest answer, so a kid not among them is not auth's: loaded once, last fetch good. */
  get authoritative(): boolean {
    return this.loaded && this.failures === 0;
  }

  private refresh(): Promise<void> {
    this.fetching ??= this.fetch().finally(() => {
      this.fetching = undefined;
    });
    return this.fetching;
  }

  private async fetch(): Promise<void> {
    this.lastFetchAt = this.options.now();
    const reply = await this.request();
    if (reply) this.replace(reply);
    if (reply && this.failures > 0) this.options.log.info({ keys: this.keys.size }, 'auth answered the JWKS request');
    this.failures = reply ? 0 : this.failures + 1;
    const backoff = this.loaded ? Math.min(RETRY_FIRST_MS * 2 ** (this.failures - 1), RETRY_MAX_MS) : FIRST_LOAD_RETRY_MS;
    this.schedule(reply ? REFRESH_MS : backoff);
  }

  private async request(): Promise<AuthJwksReply | undefined> {
    const { log } = this.options;
    try {
      const answer = await this.bus.request(authJwksSubject, encode(AuthJwksRequestSchema, {}), { timeoutMs: REQUEST_TIMEOUT_MS });
      const decoded = decode(AuthJwksReplySchema, answer.data);
      if (!decoded.ok) log.warn({ error: decoded.error }, 'malformed JWKS reply from auth, ignored');
      return decoded.ok ? decoded.value : undefined;
    } catch (err) {
      const unreachable = err instanceof BusNoRespondersError || err instanceof BusTimeoutError;
      if (!unreachable) log.warn({ err }, 'JWKS request failed');
      else if (this.failures === 0) log.warn('auth is not answering JWKS requests yet; access tokens cannot be verified until it does');
      return undefined;
    }
  }

  /** The reply is the whole key set: keys no longer in it are dropped. */
  private replace(reply: AuthJwksReply): void {
    const next = new Map<string, KeyObject>();
    for (const jwk of reply.keys) {
      const key = this.importKey(jwk);
      if (key) next.set(jwk.kid, key);
    }
    const removed = [...this.keys.keys()].some((kid) => !next.has(kid));
    this.keys = next;
    this.loaded = true;
    if (removed) this.options.onKeyRemoved();
  }

  private importKey(jwk: AuthJwksReply['keys'][number]): KeyObject | undefined {
    const usable = jwk.kty === 'EC' && jwk['crv'] === 'P-256' && (jwk.alg ?? 'ES256') === 'ES256' && (jwk.use ?? 'sig') === 'sig';
    if (!usable) {
      this.options.log.warn({ kid: jwk.kid, kty: jwk.kty, alg: jwk.alg }, 'JWKS key is not an ES256 signing key, ignored');
      return undefined;
    }
    // Only the public members: anything else in the JWK has no business here.
    const publicJwk = { kty: 'EC', crv: 'P-256', x: stringOr(jwk['x']), y: stringOr(jwk['y']) };
    try {
      // A node:crypto key: ES256 signatures are then checked synchronously, several times faster than WebCrypto.
      return createPublicKey({ key: publicJwk, format: 'jwk' });
    } catch (err) {
      this.options.log.warn({ kid: jwk.kid, err }, 'JWKS key could not be imported, ignored');
      return undefined;
    }
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(), delayMs).unref();
  }
}

function stringOr(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
