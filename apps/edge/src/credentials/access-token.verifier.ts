import type { KeyObject } from 'node:crypto';
import type { Bus } from '#bus';
import type { Principal, Revocation } from '#contracts';
import { noMetrics, type Logger, type Metrics, type TokenCheckOutcome } from '#observability';
import { RevocationList } from './revocation-list.js';
import { AuthPublicKeys } from './auth-public-keys.js';
import { JwtRefused, parseCompactJws, verifyEs256Jwt } from './es256-jwt.js';

/** Refused; `unavailable` when the token could not be checked (auth's keys unknown), which is no verdict on it. */
export type TokenVerification = { ok: true; principal: Principal } | { ok: false; reason: string; unavailable?: true };

export interface AccessTokenVerifierOptions {
  /** Tokens' `iss`: config.auth.issuer. */
  issuer: string;
  /** Resource URIs are `${baseURL}/${serverName}`. */
  baseURL: string;
  /** mcp-front's escape hatch: a token whose `aud` is the issuer is good for every server. */
  acceptIssuerAudience: boolean;
  clockToleranceSec?: number;
  log: Logger;
  /** Epoch milliseconds; tests move time with it. */
  now?: () => number;
  /** Verified tokens remembered (default 10,000), so a repeated token costs no signature check. */
  cacheSize?: number;
  /** Where each check's outcome is counted; none by default. */
  metrics?: Metrics;
}

/** What a verified token grants, kept per token string. */
interface VerifiedToken {
  /** The whole token: it is remembered by the end of its signature (see `keyOf`) and must equal it. */
  token: string;
  principal: Principal;
  audiences: readonly string[];
  /** Seconds since the epoch. */
  exp: number;
  jti: string;
  grantId: string | undefined;
}

const DEFAULT_CACHE_SIZE = 10_000;
const AUDIENCE_LACKS = 'audience lacks';

/** Claims every access token has. */
const REQUIRED_CLAIMS = ['exp', 'sub', 'jti', 'aud'] as const;

/** The token's key may exist, but auth has not told (it has not answered yet, or its last answer failed). */
class PublicKeysUnavailable extends Error {}

/**
 * Verifies auth's access tokens locally: ES256 signature against auth's JWKS (fetched over the bus),
 * `typ`, `iss`, `exp`/`nbf`, the server's resource in `aud`, and the revocation deny set.
 */
export class AccessTokenVerifier {
  private readonly keys: AuthPublicKeys;
  private readonly revocations: RevocationList;
  /** By the end of the token's signature: see `keyOf`. */
  private readonly verified = new Map<string, VerifiedToken>();
  private readonly now: () => number;
  private readonly toleranceSec: number;
  private readonly cacheSize: number;

  constructor(
    bus: Bus,
    private readonly options: AccessTokenVerifierOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.toleranceSec = options.clockToleranceSec ?? 5;
    this.cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    const { log } = options;
    this.keys = new AuthPublicKeys(bus, { log, now: this.now, onKeyRemoved: () => this.verified.clear() });
    this.revocations = new RevocationList(bus, { log, now: this.now, graceMs: this.toleranceSec * 1000 });
  }

  /** Never fails for auth being down: keys and revocations are fetched again in the background. */
  async start(): Promise<void> {
    await Promise.all([this.keys.start(), this.revocations.start()]);
  }

  stop(): void {
    this.keys.stop();
    this.revocations.stop();
    this.verified.clear();
  }

  /** A revocation auth announced: the token or grant is denied from now on. */
  revoked(revocation: Revocation): void {
    this.revocations.add(revocation);
  }

  /** Whether tokens can be checked: auth's signing keys have been fetched. */
  get ready(): boolean {
    return this.keys.authoritative;
  }

  /** Whether `token` is remembered as verified: one of auth's, whatever it grants now. */
  knows(token: string): boolean {
    return this.lookUp(token) !== undefined;
  }

  /** How many verified tokens are remembered (bounded by `cacheSize`). */
  get remembered(): number {
    return this.verified.size;
  }

  /** Whether `token` grants access to `serverName`; the reason is for logs and never holds the token. */
  async verify(token: string, serverName: string): Promise<TokenVerification> {
    const known = this.lookUp(token);
    const verification = known ? this.grants(known, serverName) : await this.firstSight(token, serverName);
    (this.options.metrics ?? noMetrics).tokenCheck(outcomeOf(verification));
    return verification;
  }

  /** A token not remembered: its signature and claims checked in full, and remembered when good. */
  private async firstSight(token: string, serverName: string): Promise<TokenVerification> {
    let payload: Record<string, unknown>;
    try {
      const jws = parseCompactJws(token);
      // Before any key is looked up: "none", HS256 with the public key as secret, anything else.
      if (jws.header['alg'] !== 'ES256') throw new JwtRefused('algorithm not allowed');
      if (jws.header['crit'] !== undefined || (jws.header['b64'] ?? true) !== true) {
        throw new JwtRefused('ERR_JWS_INVALID: critical or unencoded-payload header parameters are not accepted');
      }
      const kid = jws.header['kid'];
      const key = (typeof kid === 'string' && this.keys.known(kid)) || (await this.key(kid));
      payload = verifyEs256Jwt(jws, key, {
        issuer: this.options.issuer,
        typ: 'at+jwt',
        requiredClaims: REQUIRED_CLAIMS,
        clockToleranceSec: this.toleranceSec,
        nowSec: Math.floor(this.now() / 1000),
      });
    } catch (err) {
      if (err instanceof PublicKeysUnavailable) return { ok: false, reason: err.message, unavailable: true };
      return { ok: false, reason: reasonOf(err) };
    }
    const claims = verifiedToken(token, payload);
    if (!claims) return { ok: false, reason: 'malformed claims' };
    this.remember(claims);
    return this.grants(claims, serverName);
  }

  /**
   * The token remembered as verified, found by the end of its signature and compared whole. Each
   * request's header is a new string, and hashing a whole token to look it up took about 1 µs a
   * call (8,000 instructions); a different token that ends the same is not found.
   */
  private lookUp(token: string): VerifiedToken | undefined {
    const known = this.verified.get(keyOf(token));
    return known?.token === token ? known : undefined;
  }

  /** The checks that can change after a token was verified: expiry, revocation, and which server it is used on. */
  private grants(token: VerifiedToken, serverName: string): TokenVerification {
    if (token.exp <= Math.floor(this.now() / 1000) - this.toleranceSec) {
      this.verified.delete(keyOf(token.token));
      return { ok: false, reason: 'expired' };
    }
    if (this.revocations.isRevoked(token.jti, token.grantId)) return { ok: false, reason: 'revoked' };
    const resource = `${this.options.baseURL}/${serverName}`;
    const forIssuer = this.options.acceptIssuerAudience && token.audiences.includes(this.options.issuer);
    if (!forIssuer && !token.audiences.includes(resource)) return { ok: false, reason: `${AUDIENCE_LACKS} ${resource}` };
    return { ok: true, principal: token.principal };
  }

  private remember(claims: VerifiedToken): void {
    // Oldest first, by insertion order: a full cache costs a signature check, never correctness.
    if (this.verified.size >= this.cacheSize) {
      const oldest = this.verified.keys().next();
      if (!oldest.done) this.verified.delete(oldest.value);
    }
    this.verified.set(keyOf(claims.token), claims);
  }

  private async key(kid: unknown): Promise<KeyObject> {
    if (typeof kid !== 'string') throw new JwtRefused('token names no key (kid)');
    const key = await this.keys.key(kid);
    if (key) return key;
    if (!this.keys.authoritative) throw new PublicKeysUnavailable('signing keys unavailable: the JWKS could not be fetched from auth');
    throw new JwtRefused('token names an unknown key (kid)');
  }
}

/** An ES256 token ends with its signature, 86 characters of which these are 48 random bytes' worth. */
const KEY_CHARS = 64;

/** What a verified token is remembered by: the end of its signature, found without a search. */
function keyOf(token: string): string {
  return token.slice(-KEY_CHARS);
}

/** The claims a principal is made of, type-checked; undefined when any is malformed. */
function verifiedToken(token: string, payload: Record<string, unknown>): VerifiedToken | undefined {
  const { sub, jti, exp, aud } = payload;
  const email = payload['email'];
  const groups = payload['groups'];
  const gid = payload['gid'];
  const clientId = payload['client_id'];
  const audiences = typeof aud === 'string' ? [aud] : isStringArray(aud) ? aud : undefined;
  if (typeof sub !== 'string' || sub === '' || typeof jti !== 'string' || typeof exp !== 'number' || !audiences) return undefined;
  if (email !== undefined && typeof email !== 'string') return undefined;
  if (gid !== undefined && typeof gid !== 'string') return undefined;
  if (clientId !== undefined && typeof clientId !== 'string') return undefined;
  if (groups !== undefined && !isStringArray(groups)) return undefined;
  // Shared by every request that presents this token: nobody may change it on the way.
  const principal: Principal = Object.freeze({
    sub,
    method: 'oauth' as const,
    ...(email !== undefined && { email }),
    ...(groups !== undefined && { groups: [...groups] }),
    ...(clientId !== undefined && { clientId }),
  });
  return { token, principal, audiences, exp, jti, grantId: gid };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function reasonOf(err: unknown): string {
  return err instanceof JwtRefused ? err.message : 'not a token';
}

/** The metrics' name for a verdict, read from the reasons given above. */
function outcomeOf(verification: TokenVerification): TokenCheckOutcome {
  if (verification.ok) return 'valid';
  if (verification.unavailable) return 'unavailable';
  if (verification.reason === 'expired') return 'expired';
  if (verification.reason === 'revoked') return 'revoked';
  return verification.reason.startsWith(AUDIENCE_LACKS) ? 'wrong_audience' : 'invalid';
}
