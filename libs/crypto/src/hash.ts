import { createHash } from 'node:crypto';

/** SHA-256 of the text's UTF-8 bytes, base64url without padding: how codes, refresh tokens and client secrets are stored. */
export function sha256Base64Url(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}
