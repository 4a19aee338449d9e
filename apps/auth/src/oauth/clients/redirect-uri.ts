/**
 * Which redirect URIs a client may register (OAuth 2.1 §2.3.1 and §7.5, RFC 8252 §7 and §8) and
 * which requested redirect_uri matches a registered one.
 */
import { isLoopbackHostname } from '#config';

export type RedirectUriVerdict = { ok: true } | { ok: false; reason: string };

export interface RedirectUriOptions {
  /** Loopback http is allowed in both modes (RFC 8252 §7.3), so dev mode relaxes nothing here; callers pass it through unchanged. */
  devMode: boolean;
  /**
   * mcp-front's allowedRedirectUriHosts: when non-empty, where an https redirect URI may point (lower-case):
   * hosts (`claude.ai`, any port) or origins (`https://claude.ai`; a port, when named, must match).
   */
  allowedHosts?: string[];
}

const MAX_REDIRECT_URI_LENGTH = 2048;

/** Schemes that run or read content in the browser instead of navigating to a client. */
const DANGEROUS_SCHEMES = new Set(['javascript', 'data', 'file', 'blob', 'about', 'vbscript']);

/**
 * Private-use schemes without a dot, against RFC 8252 §7.1's reverse-domain rule, that MCP clients
 * in use register: Cursor, VS Code (and Insiders), Windsurf, Claude. Any other dotless scheme is refused.
 */
const KNOWN_CLIENT_SCHEMES = new Set(['cursor', 'vscode', 'vscode-insiders', 'windsurf', 'claude']);

/**
 * A loopback http redirect URI, in the exact form we accept: lower-case `http://`, host 127.0.0.1,
 * [::1] or localhost, an optional port, then a path or query or nothing. Groups: host, rest.
 */
const LOOPBACK_HTTP = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::\d{1,5})?(?=[/?]|$)(.*)$/s;

/** Whether `uri` is an http redirect URI on a loopback host (127.0.0.1, [::1] or localhost), any port. */
export function isLoopbackRedirect(uri: string): boolean {
  return LOOPBACK_HTTP.test(uri) && URL.canParse(uri);
}

/**
 * A redirect that lands on the user's own device: loopback http or a native app's private-use
 * scheme. Errors may be sent there at once; an https redirect URI of a self-registered client
 * could be anyone's page, so errors for it are shown first (RFC 9700 §4.11.2).
 */
export function staysOnDevice(uri: string): boolean {
  return isLoopbackRedirect(uri) || !uri.toLowerCase().startsWith('https:');
}

/** Registration-time rules; the reason never repeats the URI, only at most its scheme. */
export function validateRedirectUri(uri: string, options: RedirectUriOptions): RedirectUriVerdict {
  const refused = (reason: string): RedirectUriVerdict => ({ ok: false, reason });
  if (uri.length > MAX_REDIRECT_URI_LENGTH) return refused(`is longer than ${MAX_REDIRECT_URI_LENGTH} characters`);
  // The URL parser silently strips or rewrites these, so the URI we would redirect to differs from the one registered.
  if (/[\s\\]/.test(uri) || hasControlCharacter(uri)) return refused('contains whitespace, control characters or backslashes');
  if (!/^[a-z][a-z0-9+.-]*:/i.test(uri) || !URL.canParse(uri)) return refused('is not an absolute URI');
  const url = new URL(uri);
  const scheme = url.protocol.slice(0, -1);
  if (DANGEROUS_SCHEMES.has(scheme)) return refused(`uses the ${scheme}: scheme, which is never allowed`);
  if (uri.includes('#')) return refused('must not contain a fragment');
  if (url.username !== '' || url.password !== '') return refused('must not contain a username or password');
  if (scheme === 'https') return httpsVerdict(uri, url, options.allowedHosts ?? []);
  if (scheme === 'http') return isLoopbackRedirect(uri) ? { ok: true } : refused('may use http only on 127.0.0.1, [::1] or localhost');
  if (scheme.includes('.') || KNOWN_CLIENT_SCHEMES.has(scheme)) return { ok: true };
  return refused(
    `uses the scheme ${scheme.slice(0, 40)}:, which is neither https, loopback http, nor a reverse-domain app scheme (com.example.app:)`,
  );
}

function httpsVerdict(uri: string, url: URL, allowedHosts: readonly string[]): RedirectUriVerdict {
  if (!uri.toLowerCase().startsWith('https://') || url.hostname === '') return { ok: false, reason: 'is not an absolute https URI' };
  if (allowedHosts.length === 0 || isLoopbackHostname(url.hostname)) return { ok: true };
  if (allowedHosts.some((entry) => allowsHttps(entry.toLowerCase(), url))) return { ok: true };
  return { ok: false, reason: `uses the host ${url.hostname}, which is not among the allowed redirect URI hosts` };
}

/** Whether an allowedRedirectUriHosts entry (a host, or an origin) admits this https URL. */
function allowsHttps(entry: string, url: URL): boolean {
  if (!entry.includes('://')) return entry === url.hostname;
  if (!URL.canParse(entry)) return false;
  const origin = new URL(entry);
  return origin.protocol === 'https:' && origin.hostname === url.hostname && (origin.port === '' || origin.port === url.port);
}

function hasControlCharacter(text: string): boolean {
  return Array.from(text).some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
}

/**
 * Whether `requested` may be redirected to: it equals a registered URI exactly, or both are loopback
 * http URIs that differ only in port (RFC 8252 §7.3: native apps listen on a port chosen at run time).
 */
export function redirectUriMatches(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  const wanted = loopbackWithoutPort(requested);
  if (wanted === undefined) return false;
  return registered.some((uri) => loopbackWithoutPort(uri) === wanted);
}

/** The loopback URI with its port removed (host and everything after it, verbatim), or undefined. */
function loopbackWithoutPort(uri: string): string | undefined {
  if (uri.includes('#') || !isLoopbackRedirect(uri)) return undefined;
  const match = LOOPBACK_HTTP.exec(uri);
  return match === null ? undefined : `${match[1]} ${match[2]}`;
}
