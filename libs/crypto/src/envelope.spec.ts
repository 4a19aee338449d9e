import { createHash, randomBytes } from 'node:crypto';
import { Envelope, EnvelopeError, deriveKeyId } from './envelope.js';
import { sha256Base64Url } from './hash.js';

const oldKey = { id: 'old', key: randomBytes(32) };
const newKey = { id: 'new', key: randomBytes(32) };

/** Replaces the part at `index` of a sealed value with `part`. */
function withPart(sealed: string, index: number, part: string): string {
  const parts = sealed.split('.');
  parts[index] = part;
  return parts.join('.');
}

/** Flips one bit of the decoded part at `index`, keeping it canonical base64url. */
function flipBit(sealed: string, index: number): string {
  const bytes = Buffer.from(sealed.split('.')[index], 'base64url');
  bytes[0] = bytes[0] ^ 1;
  return withPart(sealed, index, bytes.toString('base64url'));
}

function openError(envelope: Envelope, sealed: string, aad?: string): EnvelopeError {
  try {
    envelope.open(sealed, aad);
  } catch (error) {
    if (error instanceof EnvelopeError) return error;
    throw error;
  }
  throw new Error('expected open to throw');
}

describe('Envelope', () => {
  it('seals to v1.<keyId>.<iv>.<ciphertext>.<tag> and opens it again', () => {
    const envelope = new Envelope([newKey, oldKey]);
    const plaintext = '{"kty":"EC","d":"private – ünïcode"}';
    const sealed = envelope.seal(plaintext);
    const [version, keyId, iv, ciphertext, tag] = sealed.split('.');
    expect([version, keyId]).toEqual(['v1', 'new']);
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    expect(Buffer.from(ciphertext, 'base64url')).toHaveLength(Buffer.byteLength(plaintext));
    expect(sealed).not.toContain('private');
    expect(envelope.open(sealed)).toBe(plaintext);
  });

  it('uses a fresh IV every time', () => {
    const envelope = new Envelope([newKey]);
    const a = envelope.seal('same');
    const b = envelope.seal('same');
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
  });

  it('seals the empty string', () => {
    const envelope = new Envelope([newKey]);
    expect(envelope.open(envelope.seal(''))).toBe('');
  });

  it('opens values sealed by an older key after rotation, and seals with the first key', () => {
    const sealedBefore = new Envelope([oldKey]).seal('kept');
    const rotated = new Envelope([newKey, oldKey]);
    expect(rotated.open(sealedBefore)).toBe('kept');
    expect(rotated.seal('x').split('.')[1]).toBe('new');
  });

  it('refuses a value sealed with a key it no longer has, naming no secret', () => {
    const sealed = new Envelope([oldKey]).seal('secret-plaintext');
    const error = openError(new Envelope([newKey]), sealed);
    expect(error.code).toBe('unknown_key');
    expect(error.message).not.toContain('secret-plaintext');
    expect(error.message).not.toContain(oldKey.key.toString('base64url'));
  });

  it.each([
    ['ciphertext', 3],
    ['tag', 4],
    ['iv', 2],
  ])('refuses a value whose %s was altered', (_part, index) => {
    const envelope = new Envelope([newKey]);
    const sealed = envelope.seal('secret-plaintext');
    const error = openError(envelope, flipBit(sealed, index));
    expect(error.code).toBe('tampered');
    expect(error.message).not.toContain('secret-plaintext');
  });

  it('refuses a value moved to another key id', () => {
    const sameBytes = { id: 'other', key: randomBytes(32) };
    const envelope = new Envelope([newKey, sameBytes]);
    expect(openError(envelope, withPart(envelope.seal('x'), 1, 'other')).code).toBe('tampered');
  });

  it('binds additional authenticated data', () => {
    const envelope = new Envelope([newKey]);
    const sealed = envelope.seal('token', 'user-1');
    expect(envelope.open(sealed, 'user-1')).toBe('token');
    expect(openError(envelope, sealed, 'user-2').code).toBe('tampered');
    expect(openError(envelope, sealed).code).toBe('tampered');
    expect(openError(envelope, envelope.seal('token'), 'user-1').code).toBe('tampered');
  });

  it.each([
    ['garbage', 'not-an-envelope'],
    ['another version', 'v2.new.AAAAAAAAAAAAAAAA.AA.AAAAAAAAAAAAAAAAAAAAAA'],
    ['too many parts', 'v1.new.a.b.c.d'],
    ['a short tag', 'v1.new.AAAAAAAAAAAAAAAA.AA.AAAA'],
    ['non-base64url characters', 'v1.new.AAAAAAAAAAAAAAAA.A+/=.AAAAAAAAAAAAAAAAAAAAAA'],
  ])('refuses %s as malformed', (_case, sealed) => {
    expect(openError(new Envelope([newKey]), sealed).code).toBe('malformed');
  });

  it('refuses a non-canonical base64url part', () => {
    const envelope = new Envelope([newKey]);
    const sealed = envelope.seal('x');
    const tag = sealed.split('.')[4];
    // The last character of a 16-byte tag carries 4 unused bits: setting one keeps the bytes but changes the text.
    const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const altered = tag.slice(0, -1) + last[last.indexOf(tag.at(-1)!) ^ 1];
    expect(Buffer.from(altered, 'base64url')).toEqual(Buffer.from(tag, 'base64url'));
    expect(openError(envelope, withPart(sealed, 4, altered)).code).toBe('malformed');
  });

  it('refuses keys that are not 32 bytes, without echoing them', () => {
    const short = randomBytes(16);
    expect(() => new Envelope([{ id: 'k', key: short }])).toThrow(EnvelopeError);
    expect(() => new Envelope([{ id: 'k', key: randomBytes(33) }])).toThrow(/exactly 32 bytes/);
    expect(() => new Envelope([newKey, { id: 'k', key: short }])).toThrow(EnvelopeError);
    try {
      new Envelope([{ id: 'k', key: short }]);
    } catch (error) {
      expect(String(error)).not.toContain(short.toString('base64url'));
      expect(String(error)).not.toContain(short.toString('hex'));
    }
  });

  it('refuses no keys, duplicate ids and ids that would break the format', () => {
    expect(() => new Envelope([])).toThrow(EnvelopeError);
    expect(() => new Envelope([newKey, { id: 'new', key: randomBytes(32) }])).toThrow(/twice/);
    expect(() => new Envelope([{ id: 'a.b', key: randomBytes(32) }])).toThrow(EnvelopeError);
    expect(() => new Envelope([{ id: '', key: randomBytes(32) }])).toThrow(EnvelopeError);
  });

  it('derives a stable 8-character key id from the key', () => {
    const key = randomBytes(32);
    const id = deriveKeyId(key);
    expect(id).toMatch(/^[A-Za-z0-9_-]{8}$/);
    expect(deriveKeyId(Buffer.from(key))).toBe(id);
    expect(id).toBe(createHash('sha256').update(key).digest('base64url').slice(0, 8));
    expect(deriveKeyId(randomBytes(32))).not.toBe(id);
    const envelope = new Envelope([{ id, key }]);
    expect(envelope.seal('x').split('.')[1]).toBe(id);
  });
});

describe('Envelope.isCurrent', () => {
  it('tells a value sealed by the current key from one sealed by a key it replaced', () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const old = new Envelope([{ id: deriveKeyId(a), key: a }]);
    const rotated = new Envelope([
      { id: deriveKeyId(b), key: b },
      { id: deriveKeyId(a), key: a },
    ]);
    const sealedOld = old.seal('x');
    expect(old.isCurrent(sealedOld)).toBe(true);
    expect(rotated.isCurrent(sealedOld)).toBe(false);
    expect(rotated.isCurrent(rotated.seal('x'))).toBe(true);
    expect(rotated.isCurrent('garbage')).toBe(false);
  });
});

describe('sha256Base64Url', () => {
  it('hashes UTF-8 text to unpadded base64url', () => {
    // RFC 7636 appendix B: the S256 challenge of this verifier.
    expect(sha256Base64Url('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    // SHA-256 of nothing: e3b0c442…b855.
    expect(sha256Base64Url('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(sha256Base64Url('ü')).not.toBe(sha256Base64Url('u'));
  });
});
