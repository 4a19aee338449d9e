import { childPath, type ConfigProblem } from './config-problem.js';

/** A key the schema accepts but this milestone cannot run yet. */
interface NotSupportedRow {
  /** Dotted path pattern: `*` matches any one key or index, `**` any number of them. */
  readonly path: string;
  /** Only values for which this holds are unsupported; by default any value present. */
  readonly when?: (value: unknown) => boolean;
}

const isUserTokenObject = (value: unknown) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, '$userToken');

/** Delete a row when the milestone that implements its feature lands. */
export const NOT_SUPPORTED_YET: readonly NotSupportedRow[] = [
  // `false` asks for nothing, so only `true` is unsupported.
  { path: 'mcpServers.*.requiresUserToken', when: (v) => v === true },
  { path: 'mcpServers.*.userAuthentication' },
  // mcp-front's first form of userAuthentication (2025).
  { path: 'mcpServers.*.tokenSetup' },
  { path: 'mcpServers.*.options.authTokens' },
  { path: 'mcpServers.*.serviceAuths.*.userToken' },
  { path: '**', when: isUserTokenObject },
];

const ROWS = NOT_SUPPORTED_YET.map((row) => ({ ...row, pattern: row.path.split('.') }));

function matches(pattern: readonly string[], segments: readonly string[]): boolean {
  const [head, ...rest] = pattern;
  if (head === undefined) return segments.length === 0;
  if (head === '**') return matches(rest, segments) || (segments.length > 0 && matches(pattern, segments.slice(1)));
  const [segment, ...remaining] = segments;
  return segment !== undefined && (head === '*' || head === segment) && matches(rest, remaining);
}

/**
 * `not supported yet: <path>` for every value in the raw JSON that a row matches. It reads the
 * raw JSON so it reports alongside schema errors, and stops at a match so children stay quiet.
 */
export function findNotSupported(json: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const visit = (value: unknown, segments: string[], path: string): void => {
    const unsupported = segments.length > 0 && ROWS.some((row) => matches(row.pattern, segments) && (row.when?.(value) ?? true));
    if (unsupported) {
      problems.push({ path, message: `not supported yet: ${path}` });
      return;
    }
    if (Array.isArray(value)) value.forEach((item, i) => visit(item, [...segments, String(i)], childPath(path, i)));
    else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) visit(item, [...segments, key], childPath(path, key));
    }
  };
  visit(json, [], '');
  return problems;
}
