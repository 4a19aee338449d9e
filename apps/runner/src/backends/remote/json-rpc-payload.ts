import { isJsonRpcMessage, jsonNestedDeeperThan, type JsonRpcMessage } from '#contracts';

export type JsonRpcPayload = { ok: true; messages: JsonRpcMessage[] } | { ok: false; why: 'not-json-rpc' | 'too-deep' };

/**
 * The JSON-RPC messages in a body or SSE event from a remote server: one message or a batch
 * (2025-03-26 servers may batch). Anything else fails the whole payload, as stdio does a line.
 */
export function parseJsonRpcPayload(text: string): JsonRpcPayload {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, why: 'not-json-rpc' };
  }
  // JSON.parse does not recurse, but what comes after it would.
  if (jsonNestedDeeperThan(text)) return { ok: false, why: 'too-deep' };
  const items: unknown[] = Array.isArray(value) ? value : [value];
  if (items.length === 0 || !items.every(isJsonRpcMessage)) return { ok: false, why: 'not-json-rpc' };
  return { ok: true, messages: items };
}
