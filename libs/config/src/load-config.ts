import { readFileSync } from 'node:fs';
import { describeIssue, messageOf, problemsFromIssues, type ConfigProblem } from './config-problem.js';
import { ConfigFileSchema } from './config-file.schema.js';
import { buildGatehouseConfig, type GatehouseConfig } from './gatehouse-config.js';
import { findIgnoredKeys } from './ignored-keys.table.js';

export type LoadResult = { ok: true; config: GatehouseConfig; warnings: string[] } | { ok: false; problems: ConfigProblem[] };

/** Reads, parses and resolves a config file, reporting every problem found rather than the first. */
export function loadConfig(filePath: string, env: NodeJS.ProcessEnv = process.env): LoadResult {
  let text: string;
  try {
    // Editors on Windows may save a byte-order mark, which JSON.parse rejects.
    text = readFileSync(filePath, 'utf8').replace(/^\uFEFF/, '');
  } catch (error) {
    return { ok: false, problems: [{ path: '', message: `cannot read config file ${filePath}: ${describeReadError(error)}` }] };
  }
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    return { ok: false, problems: [{ path: '', message: `invalid JSON in ${filePath}: ${describeJsonError(error, text)}` }] };
  }
  return parseConfig(json, env);
}

/** Validates and resolves an already-parsed config document (what `loadConfig` does after reading). */
export function parseConfig(json: unknown, env: NodeJS.ProcessEnv = process.env): LoadResult {
  const parsed = ConfigFileSchema.safeParse(json, { error: describeIssue });
  if (!parsed.success) return { ok: false, problems: problemsFromIssues(parsed.error.issues) };
  const problems: ConfigProblem[] = [];

  const built = buildGatehouseConfig(parsed.data, env);
  problems.push(...built.problems);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: built.config, warnings: [...findIgnoredKeys(json), ...built.warnings] };
}

function describeReadError(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  return messageOf(error);
}

/**
 * V8's message minus any quoted excerpt of the file (which may hold a secret), plus the
 * line and column when V8 gives a position.
 */
function describeJsonError(error: unknown, text: string): string {
  const withoutExcerpt = messageOf(error).replace(/, ".*" is not valid JSON$/s, '');
  const position = /at position (\d+)/.exec(withoutExcerpt);
  if (!position) return withoutExcerpt;
  const offset = Number(position[1]);
  const before = text.slice(0, offset).split('\n');
  const line = before.length;
  const column = (before.at(-1)?.length ?? 0) + 1;
  return `${withoutExcerpt.replace(/ in JSON at position \d+.*$/s, '')} at line ${line}, column ${column}`;
}
