import type { JsonRpcMessage } from '#contracts';

/** The revision served without sessions, and the `_meta` keys its requests carry. */
export const STATELESS_VERSION = '2026-07-28';
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Methods whose results may carry input_required, and whose requests name their target. */
export const INPUT_CAPABLE_METHODS = new Set(['tools/call', 'prompts/get', 'resources/read']);
/** List results the revision gives caching hints, and that the gateway caches per identity. */
export const LIST_METHODS = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list']);

type Params = Record<string, unknown>;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function paramsOf(message: JsonRpcMessage): Params {
  return isObject(message.params) ? message.params : {};
}

export function metaOf(message: JsonRpcMessage): Params {
  const meta = paramsOf(message)._meta;
  return isObject(meta) ? meta : {};
}

/** The tool or prompt name, or the resource URI, a request targets. */
export function requestName(message: JsonRpcMessage): string | undefined {
  const params = paramsOf(message);
  const name = message.method === 'resources/read' ? params.uri : params.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The client capabilities that change what a 2025 backend may ask of its client — sampling,
 * elicitation, roots — as declared; a pooled session is opened with exactly these.
 */
export function bridgedCapabilities(message: JsonRpcMessage): Params {
  const declared = metaOf(message)[META.clientCapabilities];
  if (!isObject(declared)) return {};
  const kept: Params = {};
  for (const name of ['sampling', 'elicitation', 'roots'] as const) if (isObject(declared[name])) kept[name] = declared[name];
  return kept;
}

/** A stable text for a value made of JSON: object keys sorted. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObject(value)) {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
