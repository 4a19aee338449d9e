export type IdpErrorCode = 'access_denied' | 'idp_error' | 'misconfigured';

/** A login that did not yield an identity. The message is safe to show the user: it never holds a secret. */
export class IdpError extends Error {
  constructor(
    readonly code: IdpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IdpError';
  }
}
