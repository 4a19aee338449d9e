import { z } from 'zod';
import { OutboundFailure } from './bounded-fetch.js';
import { CredentialRefused } from './user-credentials.port.js';

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/** RFC 8414 metadata: the fields Gatehouse uses (others are dropped). */
export const AuthorizationServerMetadataSchema = z.object({
  issuer: z.string().url(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  registration_endpoint: z.string().url().optional(),
  revocation_endpoint: z.string().url().optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  scopes_supported: z.array(z.string()).optional(),
});
export type AuthorizationServerMetadata = z.infer<typeof AuthorizationServerMetadataSchema>;

const ProtectedResourceMetadataSchema = z.object({
  resource: z.string().optional(),
  authorization_servers: z.array(z.string().url()).min(1),
  scopes_supported: z.array(z.string()).optional(),
});

const RegistrationResponseSchema = z.object({
  client_id: z.string().min(1).max(2048),
  client_secret: z.string().min(1).max(2048).optional(),
  token_endpoint_auth_method: z.string().optional(),
  /** Seconds since the epoch; 0 = never (RFC 7591 §3.2.1). */
  client_secret_expires_at: z.number().int().nonnegative().optional(),
});

export interface DiscoveryOptions {
  /** Outside dev mode: URLs the service names (resource metadata, authorization server) must be https before they are fetched. */
  httpsOnly: boolean;
}

const isHttps = (url: string) => URL.canParse(url) && new URL(url).protocol === 'https:';

/** What discovery found for one remote MCP server. */
export interface DiscoveredAuthorization {
  metadata: AuthorizationServerMetadata;
  /** Scopes the server asked for (WWW-Authenticate `scope`, else its metadata's scopes_supported). */
  scopes: string[];
}

/**
 * The MCP authorization spec's discovery: an unauthenticated initialize → 401 whose WWW-Authenticate names
 * the RFC 9728 metadata (else the well-known URLs on the server's origin) → its first authorization server
 * → that server's RFC 8414 (or OpenID) metadata.
 */
export async function discoverAuthorization(
  serverUrl: string,
  displayName: string,
  fetch: Fetch,
  options: DiscoveryOptions = { httpsOnly: true },
): Promise<DiscoveredAuthorization> {
  const refused = (why: string) =>
    new CredentialRefused(
      `Gatehouse could not find how to connect to ${displayName}: ${why}. Ask the administrator to configure its OAuth endpoints.`,
    );
  const challenge = await unauthenticatedChallenge(serverUrl, fetch, refused);
  // Checked before anything is fetched from a URL the service named (outside dev mode only https is spoken to).
  if (options.httpsOnly && challenge.resourceMetadata !== undefined && !isHttps(challenge.resourceMetadata)) {
    throw refused('its server names protected-resource metadata that does not use https');
  }
  const resource = await firstJson(protectedResourceUrls(serverUrl, challenge.resourceMetadata), ProtectedResourceMetadataSchema, fetch);
  if (resource === undefined) throw refused('its server publishes no OAuth protected-resource metadata');
  if (resource.resource !== undefined && !sameResource(resource.resource, serverUrl)) {
    throw refused('its protected-resource metadata is for another resource');
  }
  const [issuer] = resource.authorization_servers;
  if (issuer === undefined) throw refused('its server names no authorization server');
  if (options.httpsOnly && !isHttps(issuer)) {
    throw new CredentialRefused(`${displayName}'s authorization server does not use https; Gatehouse will not send credentials to it.`);
  }
  const metadata = await authorizationServerMetadata(issuer, fetch);
  if (metadata === undefined) throw refused('its authorization server publishes no usable metadata');
  if (!metadata.code_challenge_methods_supported?.includes('S256')) throw refused('its authorization server does not support PKCE (S256)');
  return { metadata, scopes: challenge.scope?.split(' ').filter(Boolean) ?? resource.scopes_supported ?? [] };
}

/** RFC 8414 then OpenID Connect discovery, with the path-insertion rules of both; the issuer must be the one asked for. */
export async function authorizationServerMetadata(issuer: string, fetch: Fetch): Promise<AuthorizationServerMetadata | undefined> {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const candidates = [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    ...(path === '' ? [] : [`${url.origin}${path}/.well-known/openid-configuration`]),
  ];
  for (const candidate of candidates) {
    const metadata = await firstJson([candidate], AuthorizationServerMetadataSchema, fetch);
    if (metadata !== undefined && sameResource(metadata.issuer, issuer)) return metadata;
  }
  return undefined;
}

/** What Gatehouse asks to be registered as (RFC 7591). */
export interface RegistrationRequest {
  clientName: string;
  redirectUri: string;
}

export interface RegisteredClient {
  clientId: string;
  clientSecret?: string;
  authMethod: string;
  /** When the client secret expires (ms since epoch), if it does. */
  secretExpiresAt?: number;
}

/** Dynamic client registration at the authorization server; a confidential client when it supports client secrets. */
export async function registerClient(
  metadata: AuthorizationServerMetadata,
  request: RegistrationRequest,
  displayName: string,
  fetch: Fetch,
): Promise<RegisteredClient> {
  if (metadata.registration_endpoint === undefined) {
    throw new CredentialRefused(
      `${displayName}'s authorization server does not let Gatehouse register itself; ask the administrator to configure a clientId for it.`,
    );
  }
  const authMethod = preferredAuthMethod(metadata);
  const body = {
    client_name: request.clientName,
    redirect_uris: [request.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: authMethod,
  };
  const response = await fetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const parsed =
    response.status === 201 || response.status === 200 ? RegistrationResponseSchema.safeParse(await jsonOf(response)) : undefined;
  if (!parsed?.success) {
    throw new CredentialRefused(`${displayName}'s authorization server refused to register Gatehouse (HTTP ${response.status}).`);
  }
  const {
    client_id: clientId,
    client_secret: clientSecret,
    token_endpoint_auth_method: method,
    client_secret_expires_at: expires,
  } = parsed.data;
  return {
    clientId,
    ...(clientSecret !== undefined && { clientSecret }),
    authMethod: method ?? authMethod,
    ...(expires !== undefined && expires > 0 && { secretExpiresAt: expires * 1000 }),
  };
}

/** client_secret_basic where allowed (RFC 6749's default), else client_secret_post, else a public client with PKCE. */
export function preferredAuthMethod(metadata: { token_endpoint_auth_methods_supported?: string[] }): string {
  const supported = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  return ['client_secret_basic', 'client_secret_post', 'none'].find((method) => supported.includes(method)) ?? 'none';
}

interface Challenge {
  resourceMetadata?: string;
  scope?: string;
}

async function unauthenticatedChallenge(serverUrl: string, fetch: Fetch, refused: (why: string) => Error): Promise<Challenge> {
  let response: Response;
  try {
    response = await fetch(serverUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'gatehouse-discovery', version: '1' } },
      }),
    });
  } catch (err) {
    if (err instanceof OutboundFailure) throw refused(`its server ${err.message}`);
    throw err;
  }
  if (response.status !== 401) return {};
  const header = response.headers.get('www-authenticate') ?? '';
  return { resourceMetadata: bearerParam(header, 'resource_metadata'), scope: bearerParam(header, 'scope') };
}

/** A parameter of the Bearer challenge (RFC 6750 §3), quoted or not. */
function bearerParam(header: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|[\\s,])${name}="([^"]*)"|(?:^|[\\s,])${name}=([^\\s,]+)`, 'i').exec(header);
  return match?.[1] ?? match?.[2];
}

/** The challenge's URL first, then RFC 9728's well-known URL with the server's path, then without it (MCP 2025-11-25). */
function protectedResourceUrls(serverUrl: string, fromChallenge: string | undefined): string[] {
  const url = new URL(serverUrl);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const wellKnown = [`${url.origin}/.well-known/oauth-protected-resource${path}`, `${url.origin}/.well-known/oauth-protected-resource`];
  const urls = fromChallenge !== undefined && URL.canParse(fromChallenge) ? [fromChallenge, ...wellKnown] : wellKnown;
  return [...new Set(urls)];
}

/** The first URL that answers 200 with JSON the schema accepts; network failures and refusals move on to the next. */
async function firstJson<T>(urls: string[], schema: z.ZodType<T>, fetch: Fetch): Promise<T | undefined> {
  for (const url of urls) {
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' } });
      if (response.status !== 200) continue;
      const parsed = schema.safeParse(await jsonOf(response));
      if (parsed.success) return parsed.data;
    } catch (err) {
      if (!(err instanceof OutboundFailure)) throw err;
    }
  }
  return undefined;
}

async function jsonOf(response: Response): Promise<unknown> {
  try {
    return JSON.parse(await response.text()) as unknown;
  } catch {
    return undefined;
  }
}

/** Resource and issuer identifiers compare as URLs without a trailing slash. */
function sameResource(a: string, b: string): boolean {
  const canonical = (text: string) => (URL.canParse(text) ? new URL(text).href.replace(/\/$/, '') : text);
  return canonical(a) === canonical(b);
}
