import { Ajv, type ErrorObject, type Options } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { messageOf } from './config-problem.js';

/** Checks a tool call's arguments; fills in the schema's `default`s; says what is wrong, or undefined when they are valid. */
export type ToolArgumentsCheck = (args: Record<string, unknown>) => string | undefined;

export type CompiledToolSchema =
  { ok: true; check: ToolArgumentsCheck; warnings: string[] } | { ok: false; message: string; warnings: string[] };

type Draft = '2020-12' | '2019-09' | 'draft-07';

/** `$schema` values Gatehouse validates with; none means 2020-12, MCP's default dialect since 2025-11-25. */
const DIALECTS = new Map<string, Draft>([
  ['https://json-schema.org/draft/2020-12/schema', '2020-12'],
  ['https://json-schema.org/draft/2019-09/schema', '2019-09'],
  ['http://json-schema.org/draft-07/schema', 'draft-07'],
]);

/**
 * `format` is an annotation, as JSON Schema 2020-12 says by default; unknown keywords are ignored
 * (but warned about); `default`s fill in absent arguments, so placeholders see them.
 */
const LAX: Options = { strict: false, validateFormats: false, allErrors: true, useDefaults: true };
/** Only to find unknown keywords (usually typos such as "requird") worth a warning. */
const STRICT: Options = {
  ...{ validateFormats: false, allErrors: true, useDefaults: true },
  ...{ strictSchema: true, strictTypes: false, strictTuples: false, strictRequired: false },
};

type AnyAjv = Ajv | Ajv2019 | Ajv2020;
const instances = new Map<string, AnyAjv>();

function ajvFor(draft: Draft, strict: boolean): AnyAjv {
  const key = `${draft}:${strict}`;
  let ajv = instances.get(key);
  if (!ajv) {
    const options = strict ? STRICT : LAX;
    ajv = draft === '2020-12' ? new Ajv2020(options) : draft === '2019-09' ? new Ajv2019(options) : new Ajv(options);
    instances.set(key, ajv);
  }
  return ajv;
}

function dialectOf(schema: Record<string, unknown>): { draft: Draft } | { error: string } {
  const declared = schema.$schema;
  if (declared === undefined) return { draft: '2020-12' };
  const draft = typeof declared === 'string' ? DIALECTS.get(declared.replace(/#$/, '')) : undefined;
  if (draft) return { draft };
  return { error: `unsupported $schema ${JSON.stringify(declared)}: use 2020-12 (the default), 2019-09 or draft-07` };
}

/** Compiles without keeping the schema registered, so two schemas with one `$id` (or one loaded twice) never clash. */
function compile(ajv: AnyAjv, schema: Record<string, unknown>) {
  try {
    return ajv.compile(schema);
  } finally {
    try {
      ajv.removeSchema(schema);
    } catch {
      // A malformed `$id` that compile already refused; nothing was kept under it.
    }
  }
}

/** A tool's `inputSchema` compiled by ajv, or why it cannot be (a config problem). */
export function compileToolInputSchema(schema: Record<string, unknown>): CompiledToolSchema {
  const warnings: string[] = [];
  if (schema.type !== undefined && schema.type !== 'object') {
    return { ok: false, message: 'expected "type": "object" (a tool takes an object of named arguments)', warnings };
  }
  const dialect = dialectOf(schema);
  if ('error' in dialect) return { ok: false, message: dialect.error, warnings };
  try {
    compile(ajvFor(dialect.draft, true), schema);
  } catch (error) {
    const message = messageOf(error);
    if (message.startsWith('strict mode: ')) warnings.push(`${message.slice('strict mode: '.length)} (ignored)`);
  }
  let validate;
  try {
    validate = compile(ajvFor(dialect.draft, false), schema);
  } catch (error) {
    return { ok: false, message: `not a valid JSON Schema (${dialect.draft}): ${describeCompileError(error)}`, warnings };
  }
  const check: ToolArgumentsCheck = (args) => (validate(args) ? undefined : describeErrors(validate.errors ?? []));
  return { ok: true, check, warnings };
}

/** Ajv's words, with "data" (its name for the schema being compiled) said as the path people know. */
function describeCompileError(error: unknown): string {
  return messageOf(error)
    .replace(/^schema is invalid: /, '')
    .replace(/\bdata(?=[/ ])/g, 'inputSchema');
}

/** `{{name}}` in an inline tool's args or env values: replaced by the argument `name`. */
export const ARGUMENT_PLACEHOLDER = /\{\{([A-Za-z_][A-Za-z0-9_-]*)\}\}/g;

/** At most this many violations are listed; a schema with `allErrors` may find many more. */
const MAX_LISTED_ERRORS = 10;

/** Which property was not expected: ajv's message leaves it out. */
function extraName(error: ErrorObject): string {
  const name: unknown = error.params.additionalProperty;
  return typeof name === 'string' ? ` (${JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)})` : '';
}

/** "arguments/count must be integer; arguments must have required property 'path'", as the model reads it. */
function describeErrors(errors: readonly ErrorObject[]): string {
  const listed = errors.slice(0, MAX_LISTED_ERRORS).map((e) => `arguments${e.instancePath} ${e.message ?? 'is invalid'}${extraName(e)}`);
  const more = errors.length > MAX_LISTED_ERRORS ? `; and ${errors.length - MAX_LISTED_ERRORS} more` : '';
  return listed.join('; ') + more;
}
