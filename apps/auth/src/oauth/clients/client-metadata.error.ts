/**
 * A client metadata document that could not be fetched or was refused. The message names the
 * client_id URL and the reason, is safe to show on an error page (HTML-escaped), and never
 * carries the document's body or the addresses its host resolved to.
 */
export class ClientMetadataError extends Error {
  /** The OAuth error an authorization or token endpoint answers with. */
  readonly code = 'invalid_client';
  readonly status = 400;
  /** The message is written for the person who configured the client. */
  readonly expose = true;
  override readonly name = 'ClientMetadataError';
}
