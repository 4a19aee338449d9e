/** Keys whose values are never kept, compared lower-cased without `-` and `_` (so `apiKey`, `api_key`, `API-KEY` match). */
const BUILT_IN = [
  'password',
  'passwd',
  'secret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'apikey',
  'authorization',
  'cookie',
  'credential',
  'credentials',
  'privatekey',
  'clientsecret',
];
const REDACTED = '[redacted]';
const TRUNCATED = '…[truncated]';

const normal = (key: string) => key.toLowerCase().replace(/[-_]/g, '');

/** Turns a call's arguments into the text an audit record keeps: configured keys redacted at any depth, capped in UTF-8 bytes. */
export class ArgumentRedaction {
  private readonly keys: ReadonlySet<string>;

  constructor(
    extraKeys: readonly string[],
    private readonly maxBytes: number,
  ) {
    this.keys = new Set([...BUILT_IN, ...extraKeys].map(normal));
  }

  text(args: unknown): string | undefined {
    if (args === undefined) return undefined;
    const json = JSON.stringify(args, (key, value: unknown) => (key !== '' && this.keys.has(normal(key)) ? REDACTED : value));
    return json === undefined ? undefined : cap(json, this.maxBytes);
  }
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
