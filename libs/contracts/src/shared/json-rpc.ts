import { z } from 'zod';

/** A single JSON-RPC 2.0 message; the MCP SDK's schemas check it in depth at the edge and runner. */
export const JsonRpcMessageSchema = z.looseObject({ jsonrpc: z.literal('2.0') });
export type JsonRpcMessage = z.infer<typeof JsonRpcMessageSchema>;

export type RequestId = string | number;

export function isRequest(m: JsonRpcMessage): m is JsonRpcMessage & { id: RequestId; method: string } {
  return typeof m.method === 'string' && isId(m.id);
}

export function isResponse(m: JsonRpcMessage): m is JsonRpcMessage & { id: RequestId } {
  return m.method === undefined && isId(m.id) && ('result' in m || 'error' in m);
}

export function isNotification(m: JsonRpcMessage): m is JsonRpcMessage & { method: string } {
  return typeof m.method === 'string' && m.id === undefined;
}

/** Map key for a request id: 1 and "1" are different ids. */
export function idKey(id: RequestId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

/** JSON-RPC error codes the gateway answers with; serverError covers its own failures. */
export const JsonRpcCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  serverError: -32000,
  /** MCP's own codes (2026-07-28 on). */
  headerMismatch: -32020,
  missingRequiredClientCapability: -32021,
  unsupportedProtocolVersion: -32022,
} as const;

/** An error response; `id` is null when the request could not be read, `data` left out when undefined. */
export function errorResponse(id: RequestId | null, code: number, message: string, data?: unknown): JsonRpcMessage {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}

/** The progressToken a request asked for, if any. */
export function progressTokenOf(m: JsonRpcMessage): RequestId | undefined {
  const params = m.params;
  if (typeof params !== 'object' || params === null || !('_meta' in params)) return undefined;
  const meta = params._meta;
  if (typeof meta !== 'object' || meta === null || !('progressToken' in meta)) return undefined;
  return isId(meta.progressToken) ? meta.progressToken : undefined;
}

/** The progressToken a progress notification refers to, if any. */
export function progressNotificationToken(m: JsonRpcMessage): RequestId | undefined {
  if (m.method !== 'notifications/progress') return undefined;
  const params = m.params;
  if (typeof params !== 'object' || params === null || !('progressToken' in params)) return undefined;
  return isId(params.progressToken) ? params.progressToken : undefined;
}

function isId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** The request a client's notifications/cancelled refers to, if the message is one. */
export function cancelledRequestId(m: JsonRpcMessage): RequestId | undefined {
  if (m.method !== 'notifications/cancelled') return undefined;
  const params = m.params;
  if (typeof params !== 'object' || params === null || !('requestId' in params)) return undefined;
  return isId(params.requestId) ? params.requestId : undefined;
}
