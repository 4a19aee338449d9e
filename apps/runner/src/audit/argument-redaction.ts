/**
 * Parts of key names that mark a secret, compared lower-cased without `-`, `_` and spaces: any key
 * containing one is redacted (`github_token`, `X-Api-Key`, `db_password`, `Authorization`).
 */
const BUILT_IN = [
  'password',
  'passwd',
  'passphrase',
  'pwd',
  'secret',
  'token',
  'apikey',
  'auth',
  'credential',
  'privatekey',
  'cookie',
  'session',
  'signature',
];
const REDACTED = '[redacted]';
const TRUNCATED = '…[truncated]';
/** Marks a URL whose credentials, query or fragment were dropped. */
const REDACTED_SUFFIX = '#[redacted]';
/** A URL-shaped string, whose credentials and query are dropped. */
const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\/\S+$/i;

const normal = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '');

/**
 * Turns a call's arguments into the text an audit record keeps, capped in UTF-8 bytes: the value
 * of any key that looks secret (built-in parts and configured ones, at any depth), the `value` of
 * a `{name|key, value}` pair whose name does, and the credentials and query of URL-shaped strings
 * are redacted.
 */
export class ArgumentRedaction {
  private readonly parts: readonly string[];

  constructor(
    extraKeys: readonly string[],
    private readonly maxBytes: number,
  ) {
    this.parts = [...new Set([...BUILT_IN, ...extraKeys.map(normal)])].filter((part) => part !== '');
  }

  text(args: unknown): string | undefined {
    if (args === undefined) return undefined;
    const json = JSON.stringify(args, (key, value: unknown) => this.redacted(key, value));
    return json === undefined ? undefined : cap(json, this.maxBytes);
  }

  private secret(key: string): boolean {
    const name = normal(key);
    return this.parts.some((part) => name.includes(part));
  }

  private redacted(key: string, value: unknown): unknown {
    if (key !== '' && this.secret(key)) return REDACTED;
    if (typeof value === 'string') return URL_LIKE.test(value) ? withoutCredentials(value) : value;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !('value' in value)) return value;
    // A header or variable written as {name: "Authorization", value: "Bearer …"}.
    const label = 'name' in value ? value.name : 'key' in value ? value.key : undefined;
    return typeof label === 'string' && this.secret(label) ? { ...value, value: REDACTED } : value;
  }
}

/** A URL without its user info, query or fragment (where tokens travel); other text as it is. */
export function withoutCredentials(text: string): string {
  if (!URL.canParse(text)) return text;
  const url = new URL(text);
  const hidden = url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '';
  if (!hidden) return text;
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  return `${url.href}${REDACTED_SUFFIX}`;
}

/** At most `maxBytes` of UTF-8, cut on a character boundary, marked when cut. */
function cap(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  const room = Math.max(0, maxBytes - Buffer.byteLength(TRUNCATED));
  // A cut inside a multi-byte character decodes to U+FFFD: drop it.
  return (
    bytes
      .subarray(0, room)
      .toString('utf8')
      .replace(/\uFFFD+$/, '') + TRUNCATED
  );
}
