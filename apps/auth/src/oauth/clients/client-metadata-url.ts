import { isLoopbackHostname } from '#config';
import { ClientMetadataError } from './client-metadata.error.js';
import { ipLiteral, isAllowedAddress } from './outbound-address.js';

/** Longer client_ids are refused before any parsing or fetching. */
const MAX_CLIENT_ID_LENGTH = 2048;

/** Whether a URL's host is loopback by name or literal; its resolved addresses are checked again at connect time. */
function isLoopbackHost(hostname: string): boolean {
  const literal = ipLiteral(hostname);
  return literal === undefined ? isLoopbackHostname(hostname) : isAllowedAddress(literal, 'loopback');
}

/**
 * The client_id's URL, or why it is not a client metadata document URL (draft-ietf-oauth-client-id-metadata-document
 * §3): https, a path other than "/", no dot segments, no fragment, no userinfo; a port and a query are allowed.
 * Dev mode also takes http on a loopback host, so a client can be developed on this machine.
 */
export function parseClientMetadataUrl(clientId: string, devMode: boolean): URL | string {
  if (clientId.length > MAX_CLIENT_ID_LENGTH) return `is longer than ${MAX_CLIENT_ID_LENGTH} characters`;
  // The URL parser quietly drops or rewrites these, so what we fetch would differ from the client_id.
  if (hasUnsafeCharacter(clientId)) return 'contains whitespace, control characters or backslashes';
  if (!URL.canParse(clientId)) return 'is not a URL';
  const url = new URL(clientId);
  const http = url.protocol === 'http:' && devMode && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !http) return devMode ? 'must use https (or http on a loopback host)' : 'must use https';
  if (!clientId.toLowerCase().startsWith(`${url.protocol}//`)) return 'is not an absolute https URL';
  if (url.username !== '' || url.password !== '') return 'must not contain a username or password';
  if (clientId.includes('#')) return 'must not contain a fragment';
  if (url.pathname === '/') return 'must have a path';
  if (hasDotSegment(clientId)) return 'must not contain "." or ".." path segments';
  return url;
}

/** Whether the client_id names a client metadata document rather than a registered client. */
export function isClientMetadataUrl(clientId: string, options: { devMode?: boolean } = {}): boolean {
  return typeof parseClientMetadataUrl(clientId, options.devMode ?? false) !== 'string';
}

/** The URL of a client_id that must be one, or a ClientMetadataError saying why it is not. */
export function clientMetadataUrl(clientId: string, devMode: boolean): URL {
  const url = parseClientMetadataUrl(clientId, devMode);
  if (typeof url !== 'string') return url;
  const shown = clientId.length > 200 ? `${clientId.slice(0, 200)}…` : clientId;
  throw new ClientMetadataError(`client_id ${shown} is not a client metadata document URL: it ${url}`);
}

/** Dot segments, also percent-encoded, which the URL parser would resolve away before fetching. */
function hasDotSegment(clientId: string): boolean {
  const afterAuthority = clientId.replace(/^[a-z]+:\/\/[^/?#]*/i, '');
  const path = afterAuthority.split(/[?#]/, 1)[0] ?? '';
  return path.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment));
}

function hasUnsafeCharacter(text: string): boolean {
  return /[\s\\]/.test(text) || Array.from(text).some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
}
