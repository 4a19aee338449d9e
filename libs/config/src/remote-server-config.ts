import type { McpServerEntry } from './config-file.schema.js';
import { childPath } from './config-problem.js';
import type { RemoteServerConfig, ServerConfig, ServerFindings } from './server-config.js';
import { fillTemplate } from './user-authentication.js';
import type { UserTokenSlots } from './user-token-slots.js';

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the relay sets itself, for the protocol or the connection. */
const RELAY_HEADERS = new Set([
  'accept',
  'connection',
  'content-length',
  'content-type',
  'host',
  'last-event-id',
  'mcp-protocol-version',
  'mcp-session-id',
  'transfer-encoding',
]);
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** What only a remote server has: its URL (http or https, no credentials) and the headers sent upstream. */
export function buildRemote(
  transportType: RemoteServerConfig['transportType'],
  entry: McpServerEntry,
  path: string,
  found: ServerFindings,
  slots: UserTokenSlots,
): Pick<RemoteServerConfig, 'transportType' | 'url' | 'headers'> {
  const resolved = entry.url === undefined ? undefined : slots.tok(entry.url, `${path}.url`, ['url']);
  // A URL with a person's token in it is checked with a stand-in token; until filled it is the template without one.
  const urlTemplate = slots.templateAt(['url']);
  const text = urlTemplate === undefined ? resolved : fillTemplate(urlTemplate, 'token');
  const url = text !== undefined && URL.canParse(text) ? new URL(text) : undefined;
  const usable = url && (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '';
  if (text !== undefined && !usable) {
    found.problems.push({ path: `${path}.url`, message: 'expected an http(s) URL without credentials (send those in headers)' });
  }
  const headers: Record<string, string> = {};
  const checked: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.headers ?? {})) {
    headers[name] = slots.tok(value, childPath(`${path}.headers`, name), ['headers', name]) ?? '';
    checked[name] = slots.templateAt(['headers', name]) ?? headers[name];
  }
  checkHeaders(checked, `${path}.headers`, found);
  const secretInUrl = urlTemplate !== undefined;
  if (usable && url.protocol === 'http:' && (Object.keys(headers).length > 0 || secretInUrl) && !LOOPBACK_HOSTS.has(url.hostname)) {
    found.warnings.push(`${path}.url: plain http to ${url.host}, so credentials cross the network unencrypted; prefer https`);
  }
  const href = urlTemplate === undefined ? (url?.href ?? '') : fillTemplate(urlTemplate, '');
  return { transportType, url: href, headers };
}

function checkHeaders(headers: Record<string, string>, path: string, found: ServerFindings): void {
  for (const [name, value] of Object.entries(headers)) {
    const at = childPath(path, name);
    if (!HEADER_NAME.test(name)) found.problems.push({ path: at, message: 'expected an HTTP header name' });
    else if (RELAY_HEADERS.has(name.toLowerCase())) found.problems.push({ path: at, message: 'set by Gatehouse itself; remove it' });
    // What Node.js would refuse to send (a line break would start another header): refused here, never echoed.
    if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) {
      found.problems.push({ path: at, message: 'expected printable characters without line breaks (Latin-1 at most)' });
    }
  }
}

/** Keys only remote servers use, on a server of another kind: mcp-front ignores them, so they are accepted with a warning. */
export function warnIgnoredRemoteKeys(
  entry: McpServerEntry,
  kind: ServerConfig['transportType'],
  path: string,
  found: ServerFindings,
): void {
  if (kind === 'sse' || kind === 'streamable-http') return;
  for (const key of ['url', 'headers'] as const) {
    if (entry[key] !== undefined) found.warnings.push(`${path}.${key}: used only by "sse" and "streamable-http" servers; ignored`);
  }
}
