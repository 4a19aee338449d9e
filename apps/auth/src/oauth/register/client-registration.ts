import { z } from 'zod';
import { randomId, sha256Base64Url } from '#crypto';
import type { ClientRecord, ClientRepository } from '../../persistence/auth-store.port.js';
import { safeClientName } from '../clients/client-metadata-validation.js';
import { validateRedirectUri } from '../clients/redirect-uri.js';
import { OAuthError } from '../oauth-error.js';

/** The RFC 7591 metadata Gatehouse uses; other members are accepted and ignored. */
const RegistrationRequestSchema = z.looseObject({
  redirect_uris: z.array(z.string().max(2000)).min(1).max(10),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  grant_types: z.array(z.enum(['authorization_code', 'refresh_token'])).optional(),
  response_types: z.array(z.literal('code')).optional(),
  client_name: z.string().max(1000).optional(),
  scope: z.string().max(1000).optional(),
});

/** The registration response (RFC 7591 §3.2.1). */
export interface RegisteredClient {
  client_id: string;
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
  client_name?: string;
  redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  token_endpoint_auth_method: string;
  scope?: string;
}

/** Dynamic client registration: checks the metadata, stores the client, returns its credentials once. */
export class ClientRegistration {
  constructor(
    private readonly clients: ClientRepository,
    private readonly options: { devMode: boolean; allowedRedirectUriHosts: string[] },
  ) {}

  async register(body: unknown): Promise<RegisteredClient> {
    const parsed = RegistrationRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      const code = issue?.path[0] === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata';
      throw new OAuthError(code, `${where}${issue?.message ?? 'invalid client metadata'}`);
    }
    const request = parsed.data;
    for (const uri of request.redirect_uris) {
      const verdict = validateRedirectUri(uri, { devMode: this.options.devMode, allowedHosts: this.options.allowedRedirectUriHosts });
      if (!verdict.ok) throw new OAuthError('invalid_redirect_uri', `${uri}: ${verdict.reason}`);
    }
    // RFC 7591's default is client_secret_basic; a client that wants none says so (MCP clients do).
    // grant_types defaults to both, not RFC 7591's authorization_code alone, so refresh works for clients that omit it.
    const method = request.token_endpoint_auth_method ?? 'client_secret_basic';
    const secret = method === 'none' ? undefined : randomId(32);
    const name = request.client_name === undefined ? undefined : safeClientName(request.client_name);
    const client: ClientRecord = {
      clientId: randomId(),
      ...(secret !== undefined && { secretHash: sha256Base64Url(secret) }),
      ...(name !== undefined && { clientName: name }),
      redirectUris: request.redirect_uris,
      grantTypes: request.grant_types ?? ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: method,
      ...(request.scope !== undefined && { scope: request.scope }),
      createdAt: Date.now(),
    };
    await this.clients.insert(client);
    return {
      ...describeClient(client),
      client_id_issued_at: Math.floor(client.createdAt / 1000),
      ...(secret !== undefined && { client_secret: secret, client_secret_expires_at: 0 }),
    };
  }
}

/** A client's public metadata, as /register and /clients/{id} show it. */
export function describeClient(client: ClientRecord): Omit<RegisteredClient, 'client_id_issued_at'> {
  return {
    client_id: client.clientId,
    ...(client.clientName !== undefined && { client_name: client.clientName }),
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: ['code'],
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    ...(client.scope !== undefined && { scope: client.scope }),
  };
}
