import { GatehouseError } from '#contracts';

/** RFC 6749 §5.2 / RFC 7591 / RFC 8707 error codes that auth answers with. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'temporarily_unavailable'
  | 'server_error';

const STATUS: Partial<Record<OAuthErrorCode, number>> = { invalid_client: 401, server_error: 500, temporarily_unavailable: 503 };

/**
 * An OAuth error answered as `{ error, error_description }` JSON. The description is shown to
 * the client, so it names what was wrong and never echoes a secret.
 */
export class OAuthError extends GatehouseError {
  declare readonly code: OAuthErrorCode;

  constructor(code: OAuthErrorCode, description: string, status?: number) {
    super(code, status ?? STATUS[code] ?? 400, description);
  }
}

/**
 * An error of a browser route that must be shown on a page and never redirected: the client or
 * its redirect URI are not (yet) trusted, so a redirect would make Gatehouse an open redirector.
 */
export class PageError extends GatehouseError {
  constructor(
    readonly title: string,
    message: string,
    status = 400,
  ) {
    super('page_error', status, message);
  }
}
