import { z } from 'zod';
import { isJsonObject } from './mcp-meta.js';

/** A single JSON-RPC 2.0 message on the bus; isJsonRpcMessage checks one in depth where it enters the gateway. */
export const JsonRpcMessageSchema = z.looseObject({ jsonrpc: z.literal('2.0') });
export type JsonRpcMessage = z.infer<typeof JsonRpcMessageSchema>;

/**
 * JsonRpcMessageSchema's check by hand (see `checkByHand`, for the contracts that carry messages):
 * an object whose `jsonrpc` is "2.0", without an own `__proto__` member, which the schema drops.
 */
export function isBusJsonRpcMessage(value: unknown): value is JsonRpcMessage {
  return isJsonObject(value) && value.jsonrpc === '2.0' && !Object.hasOwn(value, '__proto__');
}

export type RequestId = string | number;

/** The members each kind of message may have, and no others. */
const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const NOTIFICATION_KEYS = new Set(['jsonrpc', 'method', 'params']);
const RESULT_KEYS = new Set(['jsonrpc', 'id', 'result']);
const ERROR_KEYS = new Set(['jsonrpc', 'id', 'error']);
const RELATED_TASK_META_KEY = 'io.modelcontextprotocol/related-task';

/**
 * Whether `value` is one JSON-RPC message as the MCP SDK's JSONRPCMessageSchema accepts it: a
 * request, a notification, a result or an error, with no member the protocol does not define, an
 * id that is a string or a safe integer, and `params`, `result` and their `_meta` shaped as the SDK
 * requires. What is inside params and results beyond that is the method's business. The value is
 * used as it is, not copied (the SDK's schema would copy it, and drop unknown members of `error`).
 * The same check as the schema's, by hand: every message of every call passes it at the edge and
 * again at the runner, where the schema cost several times more. A property test holds the two to
 * the same answers.
 */
export function isJsonRpcMessage(value: unknown): value is JsonRpcMessage {
  if (!isJsonObject(value) || value.jsonrpc !== '2.0') return false;
  if (value.method !== undefined) {
    if (typeof value.method !== 'string' || !optional(value.params, hasValidMeta)) return false;
    return value.id === undefined ? onlyKeys(value, NOTIFICATION_KEYS) : isRequestId(value.id) && onlyKeys(value, REQUEST_KEYS);
  }
  if (value.result !== undefined) return isRequestId(value.id) && hasValidMeta(value.result) && onlyKeys(value, RESULT_KEYS);
  return optional(value.id, isRequestId) && isErrorObject(value.error) && onlyKeys(value, ERROR_KEYS);
}

/** Whether every member of `value` is one of `allowed` (an own `__proto__` is a member, and never allowed). */
export function onlyKeys(value: object, allowed: ReadonlySet<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

/** Whether `value` is absent or passes `check`: an optional member, in a check by hand. */
export function optional(value: unknown, check: (value: unknown) => boolean): boolean {
  return value === undefined || check(value);
}

/** The SDK schema's id: a string or a safe integer (stricter than `isId`, which reads ids and tokens leniently). */
function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || Number.isSafeInteger(value);
}

/** An object whose `_meta`, if any, is an object with a well-formed progressToken and related task. */
function hasValidMeta(value: unknown): boolean {
  if (!isJsonObject(value)) return false;
  const meta = value._meta;
  if (meta === undefined) return true;
  if (!isJsonObject(meta) || !optional(meta.progressToken, isRequestId)) return false;
  return optional(meta[RELATED_TASK_META_KEY], (task) => isJsonObject(task) && typeof task.taskId === 'string');
}

function isErrorObject(value: unknown): boolean {
  return isJsonObject(value) && Number.isSafeInteger(value.code) && typeof value.message === 'string';
}

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
