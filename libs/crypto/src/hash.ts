import { createHash } from 'node:crypto';

/** SHA-256 of `value`, base64url; for identifiers derived from secrets, never for storing passwords. */
export function sha256Base64Url(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}
