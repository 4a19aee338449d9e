import type { ClientRecord } from '../../persistence/auth-store.port.js';
import { ClientMetadataError } from './client-metadata.error.js';
import { validateRedirectUri } from './redirect-uri.js';

export interface MetadataRules {
  devMode: boolean;
  /** When non-empty, the hosts https redirect URIs may use. */
  allowedRedirectHosts?: string[];
}

/** The consent page shows the name; longer ones are cut. */
export const MAX_CLIENT_NAME_LENGTH = 100;
const MAX_SCOPE_LENGTH = 1000;
const GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);
const SHARED_SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);
/** C0 and C1 controls, and the bidirectional overrides and isolates that let a name display as another. */
const UNSAFE_NAME_CHARACTERS = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * A fetched document as a public client (draft-ietf-oauth-client-id-metadata-document §4), or a
 * ClientMetadataError naming the first rule it breaks. Reasons name fields, never their contents.
 */
export function clientFromMetadata(clientId: string, document: unknown, rules: MetadataRules, now: number): ClientRecord {
  const invalid = (reason: string) => new ClientMetadataError(`client metadata document at ${clientId} is invalid: ${reason}`);
  if (!isObject(document)) throw invalid('it is not a JSON object');
  if (document.client_id !== clientId) throw invalid('client_id in the document does not match its URL');
  if ('client_secret' in document) throw invalid('it contains a client_secret, which a metadata document must never publish');
  checkAuthMethod(document.token_endpoint_auth_method, invalid);
  checkResponseTypes(document.response_types, invalid);
  const client: ClientRecord = {
    clientId,
    redirectUris: redirectUris(document.redirect_uris, rules, invalid),
    grantTypes: grantTypes(document.grant_types, invalid),
    tokenEndpointAuthMethod: 'none',
    createdAt: now,
  };
  const clientName = displayName(document.client_name, invalid);
  if (clientName !== undefined) client.clientName = clientName;
  const scope = optionalString(document.scope, 'scope', invalid)?.trim();
  if (scope !== undefined && scope !== '') client.scope = scope.slice(0, MAX_SCOPE_LENGTH);
  return client;
}

type Invalid = (reason: string) => ClientMetadataError;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Only `none`: a client whose document anyone can read has no secret to prove, and private_key_jwt is not implemented. */
function checkAuthMethod(method: unknown, invalid: Invalid): void {
  if (method === undefined || method === 'none') return;
  if (method === 'private_key_jwt') throw invalid('token_endpoint_auth_method private_key_jwt is not supported by this server; use none');
  if (typeof method === 'string' && SHARED_SECRET_METHODS.has(method)) {
    throw invalid(`token_endpoint_auth_method ${method} needs a shared secret, which a metadata document client cannot hold; use none`);
  }
  throw invalid('token_endpoint_auth_method is not supported; use none');
}

function checkResponseTypes(types: unknown, invalid: Invalid): void {
  if (types === undefined) return;
  if (!Array.isArray(types) || types.length !== 1 || types[0] !== 'code') throw invalid('response_types must be ["code"] or absent');
}

function redirectUris(value: unknown, rules: MetadataRules, invalid: Invalid): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('redirect_uris must be a non-empty array');
  return value.map((uri: unknown, index) => {
    if (typeof uri !== 'string') throw invalid(`redirect_uris[${index}] is not a string`);
    const verdict = validateRedirectUri(uri, { devMode: rules.devMode, allowedHosts: rules.allowedRedirectHosts ?? [] });
    if (!verdict.ok) throw invalid(`redirect_uris[${index}] ${verdict.reason}`);
    return uri;
  });
}

/**
 * Absent, both (as for registered clients): RFC 7591's default would leave MCP clients that omit
 * the member without refresh tokens. A client that cannot use authorization_code has nothing to do here.
 */
function grantTypes(value: unknown, invalid: Invalid): string[] {
  if (value === undefined) return ['authorization_code', 'refresh_token'];
  const supported = Array.isArray(value) && value.every((type) => typeof type === 'string' && GRANT_TYPES.has(type));
  if (!supported) throw invalid('grant_types may contain only authorization_code and refresh_token');
  const types = [...new Set(value.filter((type): type is string => typeof type === 'string'))];
  if (!types.includes('authorization_code')) throw invalid('grant_types must include authorization_code');
  return types;
}

function displayName(value: unknown, invalid: Invalid): string | undefined {
  const raw = optionalString(value, 'client_name', invalid);
  return raw === undefined ? undefined : safeClientName(raw);
}

/** A client's name as the consent page may show it: one line, no controls or direction tricks, bounded. */
export function safeClientName(raw: string): string | undefined {
  const name = raw.replace(/\s+/g, ' ').replace(UNSAFE_NAME_CHARACTERS, '').trim();
  if (name === '') return undefined;
  const characters = Array.from(name);
  return characters.length > MAX_CLIENT_NAME_LENGTH
    ? `${characters
        .slice(0, MAX_CLIENT_NAME_LENGTH - 1)
        .join('')
        .trimEnd()}…`
    : name;
}

function optionalString(value: unknown, field: string, invalid: Invalid): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string`);
  return value;
}
