import type { ServerConfig } from './server-config.js';
import { fillTemplate } from './user-authentication.js';

/**
 * A copy of `server` with every `$userToken` value filled: its template with each `{{token}}`
 * replaced by `formattedToken` (already put through tokenFormat; percent-encoded in a `url`). An inline tool's filled values
 * are marked opaque, so a call's `{{name}}` arguments never template a person's token.
 */
export function withUserToken<T extends ServerConfig>(server: T, formattedToken: string): T {
  const copy = structuredClone(server);
  for (const slot of server.userToken?.slots ?? []) {
    const keys = [...slot.path];
    const last = keys.pop();
    if (last === undefined) continue;
    const parent = keys.reduce<unknown>((node, key) => (isContainer(node) ? (Reflect.get(node, key) as unknown) : undefined), copy);
    if (!isContainer(parent)) throw new Error(`withUserToken: no value at ${slot.path.join('.')} in ${server.name}`);
    // In a URL the token is one component: `/`, `?`, `#` or `..` in it cannot change the path or query.
    const token = slot.path[0] === 'url' ? encodeURIComponent(formattedToken) : formattedToken;
    Reflect.set(parent, last, fillTemplate(slot.template, token));
    markOpaque(copy, slot.path);
  }
  return copy;
}

function isContainer(node: unknown): node is object {
  return typeof node === 'object' && node !== null;
}

/** `['tools', i, 'args' | 'env', key]`: that tool's value is passed as it is. */
function markOpaque(server: ServerConfig, path: readonly (string | number)[]): void {
  if (server.transportType !== 'inline' || path[0] !== 'tools' || typeof path[1] !== 'number') return;
  const tool = server.tools[path[1]];
  if (!tool) return;
  const opaque = (tool.opaque ??= { args: [], env: [] });
  if (path[2] === 'args' && typeof path[3] === 'number') opaque.args.push(path[3]);
  if (path[2] === 'env' && typeof path[3] === 'string') opaque.env.push(path[3]);
}
