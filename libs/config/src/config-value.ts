import { z } from 'zod';
import type { ConfigProblem } from './config-problem.js';

/** `{"$env": "VAR"}` as parsed: resolved against the environment at load. */
export interface EnvReference {
  readonly kind: 'env';
  readonly variable: string;
}

/** `{"$userToken": "Bearer {{token}}"}` as parsed: kept unresolved, filled in per user later. */
export interface UserTokenTemplate {
  readonly kind: 'userToken';
  readonly template: string;
}

/** A `Str` config value: a string, or a reference to an environment variable. */
export type StrValue = string | EnvReference;
/** A `Tok` config value: a `Str`, or a template for the calling user's service token. */
export type TokValue = StrValue | UserTokenTemplate;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Transforms go on the whole union: a transform inside an option would hide that option's own
// issue (a bad variable name) behind the union's generic message.
const envObject = z.strictObject({
  $env: z.string().regex(ENV_NAME, { error: 'expected an environment variable name' }),
});
const userTokenObject = z.strictObject({ $userToken: z.string() });

/** Zod error param that says "required" for a missing value and `expected` otherwise. */
function expecting(expected: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : expected) };
}

function toStrValue(value: string | z.output<typeof envObject>): StrValue {
  return typeof value === 'string' ? value : { kind: 'env', variable: value.$env };
}

/** `Str`: a string or `{"$env": "VAR"}`. */
export const Str = z.union([z.string(), envObject], expecting('expected a string or {"$env": "VAR"}')).transform(toStrValue);

/** `Tok`: a string, `{"$env": "VAR"}` or `{"$userToken": "…{{token}}…"}`. */
export const Tok = z
  .union([z.string(), envObject, userTokenObject], expecting('expected a string, {"$env": "VAR"} or {"$userToken": "…{{token}}…"}'))
  .transform((value): TokValue =>
    typeof value === 'object' && '$userToken' in value ? { kind: 'userToken', template: value.$userToken } : toStrValue(value),
  );

/** Resolves `$env` references against one environment, collecting a problem per failure. */
export class EnvResolver {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly problems: ConfigProblem[],
  ) {}

  /** The string value, or undefined (with a problem recorded) when its variable is unset or empty. */
  str(value: StrValue, path: string): string | undefined {
    if (typeof value === 'string') return value;
    const raw = this.env[value.variable];
    if (raw === undefined || raw === '') {
      const state = raw === undefined ? 'is not set' : 'is empty';
      this.problems.push({ path, message: `environment variable ${value.variable} ${state}` });
      return undefined;
    }
    return stripMatchingQuotes(raw);
  }
}

/** mcp-front strips one pair of surrounding quotes (as docker env files leave them); so do we. */
function stripMatchingQuotes(value: string): string {
  const first = value[0];
  const quoted = value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first);
  return quoted ? value.slice(1, -1) : value;
}
