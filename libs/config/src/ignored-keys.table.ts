import { childPath } from './config-problem.js';

/** A key that some mcp-front release reads and Gatehouse accepts without using, and why it has no use here. */
interface IgnoredKey {
  /** Dotted path pattern; `*` matches any one key. */
  readonly path: string;
  readonly why: string;
}

/**
 * Found in mcp-front's configuration types across its releases (June 2025 to April 2026). Keys with a
 * Gatehouse meaning are in the schema proper.
 */
export const IGNORED_KEYS: readonly IgnoredKey[] = [
  { path: 'proxy.admin', why: 'Gatehouse has no admin pages (mcp-front dropped its own in February 2026)' },
  { path: 'proxy.auth.jwtSecret', why: 'Gatehouse signs ES256 tokens with keys it generates and stores' },
  { path: 'proxy.auth.gcpProject', why: 'Gatehouse keeps its records in SQLite or PostgreSQL, not Firestore' },
  { path: 'proxy.auth.firestoreDatabase', why: 'Gatehouse keeps its records in SQLite or PostgreSQL, not Firestore' },
  { path: 'proxy.auth.firestoreCollection', why: 'Gatehouse keeps its records in SQLite or PostgreSQL, not Firestore' },
  {
    path: 'proxy.auth.refreshTokenScopes',
    why: 'refresh tokens go to every client whose grant_types include refresh_token',
  },
  { path: 'mcpServers.*.options.panicIfInvalid', why: 'a server that cannot be configured always stops Gatehouse from starting' },
  { path: 'mcpServers.*.options.logEnabled', why: "a backend's stderr is always logged (rate-limited)" },
  {
    path: 'mcpServers.*.googleIDTokenAudience',
    why: 'Gatehouse mints no Google ID tokens; put the upstream credential in headers',
  },
];

/** One warning per ignored key present in the raw JSON, in table order. */
export function findIgnoredKeys(json: unknown): string[] {
  return IGNORED_KEYS.flatMap((key) => present(json, key.path.split('.'), '').map((path) => `${path}: accepted and ignored: ${key.why}`));
}

/** The formatted paths of the values at `pattern` under `value`. */
function present(value: unknown, pattern: readonly string[], path: string): string[] {
  const [head, ...rest] = pattern;
  if (head === undefined) return value === undefined ? [] : [path];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const entries = Object.entries(value).filter(([key]) => head === '*' || key === head);
  return entries.flatMap(([key, item]) => present(item, rest, childPath(path, key)));
}
