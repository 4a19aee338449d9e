import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]+$/;

/** One configured key; the id travels with every value it sealed, so old keys keep opening after rotation. */
export interface EnvelopeKey {
  id: string;
  key: Buffer;
}

export type EnvelopeErrorCode = 'invalid_key' | 'unknown_key' | 'malformed' | 'tampered';

/** Why a key was refused or a sealed value would not open; the message never carries key material or plaintext. */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';

  constructor(
    readonly code: EnvelopeErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A stable id for a key: the first 8 characters of its SHA-256 in base64url, so the same configured key always gets the same id. */
export function deriveKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

/**
 * AES-256-GCM with key ids: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts, 96-bit random IV).
 * The first key seals; every key opens, so a new key can be put first while values sealed by older ones still open.
 */
export class Envelope {
  private readonly sealingKey: EnvelopeKey;
  private readonly keysById = new Map<string, Buffer>();

  constructor(keys: readonly EnvelopeKey[]) {
    const [first] = keys;
    if (first === undefined) throw new EnvelopeError('invalid_key', 'at least one encryption key is required');
    for (const { id, key } of keys) {
      if (!KEY_ID.test(id)) throw new EnvelopeError('invalid_key', 'an encryption key id must be non-empty base64url characters');
      if (key.length !== KEY_BYTES) throw new EnvelopeError('invalid_key', `encryption key ${id} must be exactly ${KEY_BYTES} bytes`);
      if (this.keysById.has(id)) throw new EnvelopeError('invalid_key', `encryption key id ${id} is configured twice`);
      this.keysById.set(id, key);
    }
    this.sealingKey = first;
  }

  /** Encrypts the text; `aad`, if given, must be given again to open it (it binds the value to its context). */
  seal(plaintext: string, aad?: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.sealingKey.key, iv, { authTagLength: TAG_BYTES });
    if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'));
    return [VERSION, this.sealingKey.id, ...parts].join('.');
  }

  /** Whether the value names the key that seals now; a value sealed by an older key is re-sealed when next used. */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`${VERSION}.${this.sealingKey.id}.`);
  }

  /** Decrypts a value sealed by any configured key; throws EnvelopeError when it is malformed, from an unknown key, or altered. */
  open(sealed: string, aad?: string): string {
    const { keyId, iv, ciphertext, tag } = parse(sealed);
    const key = this.keysById.get(keyId);
    if (key === undefined) throw new EnvelopeError('unknown_key', `sealed value names an unknown key id ${keyId}`);
    const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // Node's own message is generic too, but ours is stable and typed.
      throw new EnvelopeError('tampered', 'sealed value failed authentication (altered, or sealed with other data)');
    }
  }
}

interface SealedParts {
  keyId: string;
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

function parse(sealed: string): SealedParts {
  const parts = sealed.split('.');
  const [version, keyId, iv, ciphertext, tag] = parts;
  if (
    parts.length !== 5 ||
    version !== VERSION ||
    keyId === undefined ||
    iv === undefined ||
    ciphertext === undefined ||
    tag === undefined
  ) {
    throw new EnvelopeError('malformed', 'sealed value is not in the v1 envelope format');
  }
  const decoded = { keyId, iv: decode(iv), ciphertext: decode(ciphertext), tag: decode(tag) };
  if (decoded.iv.length !== IV_BYTES || decoded.tag.length !== TAG_BYTES) {
    throw new EnvelopeError('malformed', 'sealed value has a wrong IV or tag length');
  }
  return decoded;
}

/** Only canonical base64url, so no two strings open to the same value. */
function decode(part: string): Buffer {
  const bytes = Buffer.from(part, 'base64url');
  if (bytes.toString('base64url') !== part) throw new EnvelopeError('malformed', 'sealed value has a part that is not canonical base64url');
  return bytes;
}

/**
 * The gateway's envelope from its configured keys: the current encryptionKey first (it seals),
 * then the keys it replaced (they only open). Key ids are derived, so a value names its key.
 */
export function envelopeOf(current: string, previous: readonly string[] = []): Envelope {
  const keys = [current, ...previous].map((text) => Buffer.from(text, 'utf8'));
  return new Envelope(keys.map((key) => ({ id: deriveKeyId(key), key })));
}
