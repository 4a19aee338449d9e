import type { ManualUserAuthentication } from '#config';
import { CredentialRefused } from './user-credentials.port.js';

/** A pasted API key is short; more is a mistake or an attack on the store. */
export const MAX_MANUAL_TOKEN_BYTES = 8 * 1024;

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The token as it will be stored (surrounding whitespace from a paste removed), or CredentialRefused with what to fix. */
export function checkManualToken(auth: ManualUserAuthentication, given: string): string {
  const token = given.trim();
  if (token === '') throw new CredentialRefused(`Enter your ${auth.displayName} token.`);
  if (Buffer.byteLength(token, 'utf8') > MAX_MANUAL_TOKEN_BYTES) {
    throw new CredentialRefused(`That ${auth.displayName} token is too long (at most ${MAX_MANUAL_TOKEN_BYTES / 1024} KiB).`);
  }
  if (CONTROL.test(token)) throw new CredentialRefused(`That ${auth.displayName} token contains control characters; paste only the token.`);
  // Unanchored, as mcp-front's Go MatchString; a stateful (g/y) pattern must not carry lastIndex between calls.
  if (auth.validation && !new RegExp(auth.validation.source, auth.validation.flags.replace(/[gy]/g, '')).test(token)) {
    throw new CredentialRefused(`That does not look like a ${auth.displayName} token; check it and try again.`);
  }
  return token;
}
