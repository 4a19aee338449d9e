import { createHmac, hkdfSync } from 'node:crypto';
import { constantTimeEqual } from '#crypto';
import type { BrowserSession } from './browser-session.port.js';

/**
 * The CSRF token of every form on the person's pages: an HMAC of the browser session's id, under
 * a key derived from the gateway's encryption key. It is the same on every page of one session,
 * useless in any other session, and needs no storage.
 */
export class CsrfTokens {
  private readonly key: Buffer;

  constructor(encryptionKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', encryptionKey, '', 'gatehouse/csrf/v1', 32));
  }

  issue(session: BrowserSession): string {
    return createHmac('sha256', this.key).update(session.id).digest('base64url');
  }

  /** Constant time, whatever `token` is. */
  check(session: BrowserSession, token: string | null | undefined): boolean {
    return constantTimeEqual(this.issue(session), token ?? '');
  }
}
