/** Label values that keep every series bounded: anything not known here becomes one shared value. */

/** The label of whatever is not in a label's known set. */
export const OTHER = 'other';

/** JSON-RPC methods of MCP (2024-11-05 to 2026-07-28); a client may send any string, so the rest is `other`. */
const MCP_METHODS = new Set([
  'initialize',
  'ping',
  'tools/list',
  'tools/call',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'resources/subscribe',
  'resources/unsubscribe',
  'prompts/list',
  'prompts/get',
  'completion/complete',
  'logging/setLevel',
  'tasks/get',
  'tasks/result',
  'tasks/list',
  'tasks/cancel',
  'server/discover',
  'subscriptions/listen',
]);

const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function mcpMethodLabel(method: string): string {
  return MCP_METHODS.has(method) ? method : OTHER;
}

export function httpMethodLabel(method: string): string {
  return HTTP_METHODS.has(method) ? method : OTHER;
}

/** A route pattern names code, not a request; a request no route matched is `unmatched`. */
export function routeLabel(route: string | undefined): string {
  return route === undefined || route === '' ? 'unmatched' : route;
}

/** The status and its class; `none` when the client went away before any answer. */
export function statusLabels(status: number | undefined): { status: string; status_class: string } {
  if (status === undefined) return { status: 'none', status_class: 'none' };
  if (!Number.isInteger(status) || status < 100 || status > 599) return { status: OTHER, status_class: OTHER };
  return { status: String(status), status_class: `${Math.floor(status / 100)}xx` };
}

/** Server names come from the config; a name a client made up (a 404) is `other`. */
export class ServerLabels {
  private readonly known: ReadonlySet<string>;

  constructor(servers: Iterable<string>) {
    this.known = new Set(servers);
  }

  of(server: string): string {
    return this.known.has(server) ? server : OTHER;
  }
}
