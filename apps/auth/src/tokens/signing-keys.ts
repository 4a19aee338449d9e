import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { AuthJwksReply } from '#contracts';
import { randomId, type Envelope } from '#crypto';
import type { SigningKeyRecord, SigningKeyRepository } from '../persistence/auth-store.port.js';

const ALG = 'ES256';
/** A key signs for this long, then a new one takes over. */
const DEFAULT_ROTATE_AFTER_MS = 30 * 24 * 3_600_000;

type PublicJwk = AuthJwksReply['keys'][number];

interface LoadedKey {
  record: SigningKeyRecord;
  publicJwk: PublicJwk;
}

export interface SigningKeysOptions {
  /** Longest lifetime of a token signed by a key: a retired key is published this long after it stopped signing. */
  tokenTtlMs: number;
  rotateAfterMs?: number;
  now?: () => number;
}

/**
 * Auth's ES256 signing keys, kept in the database with the private half sealed by the
 * encryption key. The newest key signs; a retired key stays in the JWKS until every token it
 * signed has expired, so rotation breaks no unexpired token.
 */
export class SigningKeys {
  private keys: LoadedKey[] = [];
  private signer: { kid: string; key: CryptoKey } | undefined;
  private loadedAt = 0;

  constructor(
    private readonly repository: SigningKeyRepository,
    private readonly envelope: Envelope,
    private readonly options: SigningKeysOptions,
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Loads the stored keys, making the first one or rotating a key that has signed long enough. */
  async load(): Promise<void> {
    await this.reload();
    const current = this.keys[0]?.record;
    const rotateAfter = this.options.rotateAfterMs ?? DEFAULT_ROTATE_AFTER_MS;
    if (!current || current.retiredAt !== undefined || this.now() - current.createdAt >= rotateAfter) await this.rotate();
  }

  /** Re-reads the keys another auth replica may have rotated. */
  async reload(): Promise<void> {
    this.loadedAt = this.now();
    const records = await this.repository.list();
    this.keys = records.map((record) => ({ record, publicJwk: JSON.parse(record.publicJwk) as PublicJwk }));
    const newest = records[0];
    if (newest && newest.retiredAt === undefined && newest.kid !== this.signer?.kid) {
      const opened = this.envelope.open(newest.sealedPrivateJwk, newest.kid);
      // Sealed by an encryption key since rotated: sealed again under the current one, so the old key can be dropped.
      if (!this.envelope.isCurrent(newest.sealedPrivateJwk)) {
        await this.repository.reseal(newest.kid, newest.sealedPrivateJwk, this.envelope.seal(opened, newest.kid));
      }
      const privateJwk = JSON.parse(opened) as JWK;
      this.signer = { kid: newest.kid, key: (await importJWK(privateJwk, ALG)) as CryptoKey };
    }
  }

  /** Re-reads the keys when the last read is older than `maxAgeMs`: edges asking for keys must see a key another replica just made. */
  async reloadIfOlderThan(maxAgeMs: number): Promise<void> {
    if (this.now() - this.loadedAt > maxAgeMs) await this.reload();
  }

  /** Makes a new signing key and retires the current one. */
  async rotate(): Promise<void> {
    const now = this.now();
    const { publicKey, privateKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = randomId(12);
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
    const sealed = this.envelope.seal(JSON.stringify(await exportJWK(privateKey)), kid);
    const previous = this.keys.find((k) => k.record.retiredAt === undefined);
    await this.repository.insert({ kid, alg: ALG, publicJwk: JSON.stringify(publicJwk), sealedPrivateJwk: sealed, createdAt: now });
    if (previous) await this.repository.retire(previous.record.kid, now);
    await this.reload();
  }

  /** The key that signs now. */
  current(): { kid: string; key: CryptoKey } {
    if (!this.signer) throw new Error('signing keys are not loaded');
    return this.signer;
  }

  /** Public keys that may have signed an unexpired token. */
  jwks(): AuthJwksReply {
    const horizon = this.now() - this.options.tokenTtlMs - 60_000;
    return { keys: this.keys.filter((k) => (k.record.retiredAt ?? Infinity) > horizon).map((k) => k.publicJwk) };
  }

  /** Verifies a token auth signed (for /revoke); expiry is not checked, as a revoked token may have lapsed. */
  async verifyOwn(token: string, issuer: string): Promise<JWTPayload | undefined> {
    try {
      const keySet = createLocalJWKSet(this.jwks());
      const { payload } = await jwtVerify(token, keySet, { issuer, algorithms: [ALG], currentDate: new Date(0) });
      return payload;
    } catch {
      return undefined;
    }
  }
}
