import type { TokValue } from './config-value.js';
import type { ServerFindings } from './server-config.js';

/** Where in a resolved ServerConfig a `{"$userToken": …}` value goes, and what it becomes. */
export interface UserTokenSlot {
  /** Keys from the server config down to the value, e.g. `['headers', 'Authorization']` or `['tools', 0, 'env', 'KEY']`. */
  path: readonly (string | number)[];
  /** The `$userToken` template: every `{{token}}` is replaced by the formatted token. */
  template: string;
}

/** A slot as written, with the file path its problems and warnings are reported at. */
export interface FoundSlot extends UserTokenSlot {
  source: string;
}

/**
 * Resolves `Tok` values of one server: `$env` as usual, `$userToken` recorded as a slot and left
 * as '' in the resolved config (filled per session by `withUserToken`).
 */
export class UserTokenSlots {
  readonly found: FoundSlot[] = [];

  constructor(private readonly findings: ServerFindings) {}

  /** The value's string; '' for a `$userToken` template, recorded at `at`. */
  tok(value: TokValue, source: string, at: readonly (string | number)[]): string | undefined {
    if (typeof value === 'string' || value.kind === 'env') return this.findings.resolver.str(value, source);
    this.found.push({ path: at, template: value.template, source });
    return '';
  }

  /** The template of the slot at `at`, if that value is a `$userToken`. */
  templateAt(at: readonly (string | number)[]): string | undefined {
    return this.found.find((slot) => samePath(slot.path, at))?.template;
  }
}

function samePath(a: readonly (string | number)[], b: readonly (string | number)[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}
