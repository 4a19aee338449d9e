import type { z } from 'zod';

/** One thing wrong with a config file: where (a JSON path) and what was expected. */
export interface ConfigProblem {
  /** JSON path such as "mcpServers.db.args[2]" or "proxy.sessions.timeout"; "" for the whole file. */
  readonly path: string;
  /** What was expected there; never the value of a secret. */
  readonly message: string;
}

type PathSegment = PropertyKey | { readonly key: PropertyKey };

const PLAIN_KEY = /^[A-Za-z0-9_$-]+$/;

/** Renders path segments the way people write them: `mcpServers.my-server.args[2]`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    const key = typeof segment === 'object' ? segment.key : segment;
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && PLAIN_KEY.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** Appends a key to a formatted path. */
export function childPath(path: string, key: string | number): string {
  const tail = formatPath([key]);
  return path === '' || tail.startsWith('[') ? path + tail : `${path}.${tail}`;
}

/** One line per problem: `<path>: <message>` (just the message for the whole file). */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`)).join('\n');
}

/** An error's message; duck-typed because `instanceof Error` fails across realms (e.g. under jest). */
export function messageOf(error: unknown): string {
  const message = typeof error === 'object' && error !== null && 'message' in error ? error.message : undefined;
  return typeof message === 'string' ? message : String(error);
}

/** The JSON name of a value's type, for "expected string, got number". */
function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Messages that say what was expected; passed to `safeParse` so every schema shares them. */
export const describeIssue: z.core.$ZodErrorMap = (issue) => {
  if (issue.input === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    return 'required';
  }
  if (issue.code === 'invalid_type') return `expected ${issue.expected}, got ${jsonType(issue.input)}`;
  if (issue.code === 'invalid_value') return `expected ${issue.values.map((v) => JSON.stringify(v)).join(' | ')}`;
  return undefined;
};

/** Zod issues as problems: one per unknown key, record-key issues by their own message. */
export function problemsFromIssues(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }));
    }
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return [{ path: formatPath(issue.path), message }];
  });
}
