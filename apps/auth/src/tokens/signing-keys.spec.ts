import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { deriveKeyId, Envelope } from '#crypto';
import type { AuthStore } from '../persistence/auth-store.port.js';
import { openAuthStore } from '../persistence/open-auth-store.js';
import { SigningKeys } from './signing-keys.js';

const HOUR = 3_600_000;
const key = Buffer.from('k'.repeat(32));
const envelope = new Envelope([{ id: deriveKeyId(key), key }]);

async function sign(keys: SigningKeys, exp: number): Promise<string> {
  const { kid, key: privateKey } = keys.current();
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid }).setIssuer('https://gh.test').setExpirationTime(exp).sign(privateKey);
}

describe('SigningKeys', () => {
  let store: AuthStore;
  let now: number;
  const options = () => ({ tokenTtlMs: HOUR, rotateAfterMs: 24 * HOUR, now: () => now });

  beforeEach(async () => {
    store = await openAuthStore({ type: 'sqlite', path: ':memory:' });
    now = Date.UTC(2026, 0, 1);
  });
  afterEach(() => store.close());

  it('makes a key on first load, keeps its private half sealed, and reuses it after a restart', async () => {
    const keys = new SigningKeys(store.signingKeys, envelope, options());
    await keys.load();
    const [record] = await store.signingKeys.list();
    expect(record?.sealedPrivateJwk).toMatch(/^v1\./);
    expect(record?.sealedPrivateJwk).not.toContain('"d"');
    expect(JSON.parse(record?.publicJwk ?? '{}')).not.toHaveProperty('d');

    const restarted = new SigningKeys(store.signingKeys, envelope, options());
    await restarted.load();
    expect(restarted.current().kid).toBe(keys.current().kid);
    expect(await store.signingKeys.list()).toHaveLength(1);
  });

  it('refuses to open keys with a different encryption key', async () => {
    await new SigningKeys(store.signingKeys, envelope, options()).load();
    const other = Buffer.from('o'.repeat(32));
    const wrong = new SigningKeys(store.signingKeys, new Envelope([{ id: deriveKeyId(other), key: other }]), options());
    await expect(wrong.load()).rejects.toThrow();
  });

  it('keeps signing after the encryption key is rotated, and re-seals its private half under the new key', async () => {
    const keys = new SigningKeys(store.signingKeys, envelope, options());
    await keys.load();
    const other = Buffer.from('n'.repeat(32));
    const rotated = new Envelope([
      { id: deriveKeyId(other), key: other },
      { id: deriveKeyId(key), key },
    ]);
    const restarted = new SigningKeys(store.signingKeys, rotated, options());
    await restarted.load();
    expect(restarted.current().kid).toBe(keys.current().kid);
    const [record] = await store.signingKeys.list();
    expect(record?.sealedPrivateJwk.split('.')[1]).toBe(deriveKeyId(other));
    // The old key can now be dropped from previousEncryptionKeys.
    const newOnly = new SigningKeys(store.signingKeys, new Envelope([{ id: deriveKeyId(other), key: other }]), options());
    await newOnly.load();
    expect(newOnly.current().kid).toBe(keys.current().kid);
  });

  it('rotates without breaking unexpired tokens, and drops a retired key once its tokens have expired', async () => {
    const keys = new SigningKeys(store.signingKeys, envelope, options());
    await keys.load();
    const before = await sign(keys, Math.floor(now / 1000) + 3600);
    const oldKid = keys.current().kid;

    now += 25 * HOUR; // past rotateAfterMs: the next load rotates
    await keys.load();
    expect(keys.current().kid).not.toBe(oldKid);
    const jwks = keys.jwks();
    expect(jwks.keys.map((k) => k.kid)).toEqual([keys.current().kid, oldKid]);
    const at = new Date(now);
    await expect(jwtVerify(before, createLocalJWKSet(jwks), { currentDate: new Date(now - 25 * HOUR + 1000) })).resolves.toBeDefined();
    await expect(
      jwtVerify(await sign(keys, Math.floor(now / 1000) + 60), createLocalJWKSet(jwks), { currentDate: at }),
    ).resolves.toBeDefined();

    now += HOUR + 61_000; // every token the old key signed has expired
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([keys.current().kid]);
  });

  it('verifies its own tokens for revocation, expired or not, and nothing else', async () => {
    const keys = new SigningKeys(store.signingKeys, envelope, options());
    await keys.load();
    const expired = await sign(keys, Math.floor(now / 1000) - 60);
    expect(await keys.verifyOwn(expired, 'https://gh.test')).toMatchObject({ iss: 'https://gh.test' });
    expect(await keys.verifyOwn(expired, 'https://other.test')).toBeUndefined();
    expect(await keys.verifyOwn('not.a.token', 'https://gh.test')).toBeUndefined();
  });
});
