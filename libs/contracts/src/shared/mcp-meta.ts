import type { JsonRpcMessage } from './json-rpc.js';

/** The MCP revision without sessions: every request carries its version, client and capabilities in `_meta`. */
export const STATELESS_PROTOCOL_VERSION = '2026-07-28';

/** The `_meta` keys of stateless (2026-07-28) requests, results and notifications. */
export const MCP_META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A message's params when they are an object; else none. */
export function paramsOf(message: JsonRpcMessage): Record<string, unknown> {
  return isJsonObject(message.params) ? message.params : {};
}

/** A message's `params._meta` when it is an object; else none. */
export function metaOf(message: JsonRpcMessage): Record<string, unknown> {
  const meta = paramsOf(message)._meta;
  return isJsonObject(meta) ? meta : {};
}
