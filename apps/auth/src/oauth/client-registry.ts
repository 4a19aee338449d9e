import { constantTimeEqual, sha256Base64Url } from '#crypto';
import type { ClientRecord, ClientRepository } from '../persistence/auth-store.port.js';
import { ClientMetadataError, isClientMetadataUrl, type ClientMetadataDocuments } from './clients/client-metadata-document.js';
import { OAuthError } from './oauth-error.js';
import { single } from './params.js';

/** Registered clients (RFC 7591) and clients named by a metadata document URL, found alike. */
export class ClientRegistry {
  constructor(
    private readonly repository: ClientRepository,
    private readonly documents: ClientMetadataDocuments,
    private readonly devMode: boolean,
  ) {}

  /** The client, or undefined when unknown; a metadata document that cannot be used throws ClientMetadataError. */
  async find(clientId: string): Promise<ClientRecord | undefined> {
    if (isClientMetadataUrl(clientId, { devMode: this.devMode })) return this.documents.resolve(clientId);
    return this.repository.find(clientId);
  }

  /**
   * Authenticates the client of a token or revocation request: `client_secret_basic`,
   * `client_secret_post`, or a public client naming itself with `client_id`.
   */
  async authenticate(authorization: string | undefined, form: URLSearchParams): Promise<ClientRecord> {
    const basic = parseBasic(authorization);
    const bodyId = single(form, 'client_id');
    const bodySecret = single(form, 'client_secret');
    if (basic && (bodySecret !== undefined || (bodyId !== undefined && bodyId !== basic.id))) {
      throw new OAuthError('invalid_request', 'use one client authentication method');
    }
    const clientId = basic?.id ?? bodyId;
    if (clientId === undefined) throw new OAuthError('invalid_client', 'client authentication is required');
    const client = await this.findForToken(clientId);
    const secret = basic?.secret ?? bodySecret;
    if (client.secretHash === undefined) {
      if (secret !== undefined) throw new OAuthError('invalid_client', 'this client is public and has no secret');
      return client;
    }
    if (secret === undefined || !constantTimeEqual(sha256Base64Url(secret), client.secretHash)) {
      throw new OAuthError('invalid_client', 'client authentication failed');
    }
    return client;
  }

  private async findForToken(clientId: string): Promise<ClientRecord> {
    try {
      const client = await this.find(clientId);
      if (client) return client;
    } catch (err) {
      if (!(err instanceof ClientMetadataError)) throw err;
      throw new OAuthError('invalid_client', err.message);
    }
    throw new OAuthError('invalid_client', 'unknown client');
  }
}

/** `Authorization: Basic` with form-encoded id and secret (RFC 6749 §2.3.1). */
function parseBasic(authorization: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials');
  try {
    return {
      id: decodeURIComponent(text.slice(0, colon).replace(/\+/g, ' ')),
      secret: decodeURIComponent(text.slice(colon + 1).replace(/\+/g, ' ')),
    };
  } catch {
    throw new OAuthError('invalid_client', 'malformed Basic credentials');
  }
}
