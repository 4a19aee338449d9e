import { ClientNotificationSchema, ClientRequestSchema, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { isJsonRpcMessage, jsonNestedDeeperThan, keepMessageText, MAX_JSON_DEPTH, type JsonRpcMessage } from '#contracts';
import { header, type McpHttpRequest } from './http-io.js';
import { McpErrors } from './mcp-errors.js';
import { GATEWAY_PROTOCOL_VERSIONS } from './request-metadata.js';
import { isPlainToolCall } from './tool-call-check.js';

/** Throws on bytes that are not UTF-8 (the body's JSON then cannot be valid). */
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What a request without MCP-Protocol-Version is taken to speak, as the spec says. */
export const DEFAULT_PROTOCOL_VERSION = '2025-03-26';
/** JSON-RPC batches exist only in this version (and the legacy SSE transport's). */
const BATCH_VERSIONS = new Set(['2025-03-26', '2024-11-05']);
/** From this version on, an SSE stream opens with a priming event (empty data) that older clients cannot read. */
const PRIMING_FROM = '2025-11-25';

export interface ParsedBody {
  messages: JsonRpcMessage[];
  batch: boolean;
}

/** The protocol's own schema for each method a client may send; other methods go to the backend unchecked. */
const CLIENT_METHODS = new Map<string, z.ZodType>(
  [...ClientRequestSchema.options, ...ClientNotificationSchema.options].map((schema) => [schema.shape.method.value, schema]),
);

/**
 * The protocol version a non-initialize request speaks; 400 when it is one we do not. Besides the
 * streamable HTTP versions (2025-03-26 on), the older ones the SDK negotiates are accepted: a
 * backend may agree on one of those at initialize, and the client then sends it.
 */
export function protocolVersionOf(req: McpHttpRequest): string {
  const version = header(req.headers, 'mcp-protocol-version') ?? DEFAULT_PROTOCOL_VERSION;
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) throw McpErrors.unsupportedVersion(version, GATEWAY_PROTOCOL_VERSIONS);
  return version;
}

/** Whether SSE streams of this version open with a priming event (2025-11-25 on). */
export function primesStreams(version: string): boolean {
  return version >= PRIMING_FROM;
}

/**
 * Checks the content type, parses one JSON-RPC message or a batch of them, and checks each
 * against the protocol's schema for its method: a malformed request is the client's error (400),
 * found here, never the backend's.
 */
export function parseBody(req: McpHttpRequest, batchAllowed: boolean, options: { schemas?: boolean } = {}): ParsedBody {
  const contentType = header(req.headers, 'content-type') ?? '';
  if (contentType.split(';')[0]?.trim().toLowerCase() !== 'application/json') throw McpErrors.unsupportedMediaType();
  let text: string;
  try {
    text = utf8.decode(req.body ?? Buffer.alloc(0));
  } catch {
    throw McpErrors.parseError('the body is not valid JSON');
  }
  if (jsonNestedDeeperThan(text)) throw McpErrors.invalidRequest(`the message nests deeper than ${MAX_JSON_DEPTH} levels`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw McpErrors.parseError('the body is not valid JSON');
  }
  const batch = Array.isArray(json);
  const items: unknown[] = Array.isArray(json) ? json : [json];
  if (batch && !batchAllowed) throw McpErrors.invalidRequest('JSON-RPC batches are not part of this protocol version');
  if (items.length === 0) throw McpErrors.invalidRequest('empty batch');
  const messages = items.map((item, i) => checked(item, batch ? ` (batch item ${i})` : '', options.schemas ?? true));
  if (batch && messages.some((m) => m.method === 'initialize')) throw McpErrors.invalidRequest('initialize must not be part of a batch');
  // The bus carries a lone message as the client wrote it, instead of stringifying it again.
  if (!batch && messages[0]) keepMessageText(messages[0], text);
  return { messages, batch };
}

function checked(item: unknown, where: string, schemas: boolean): JsonRpcMessage {
  if (!isJsonRpcMessage(item)) throw McpErrors.invalidRequest(`not a JSON-RPC 2.0 message${where}`);
  if (schemas) checkSchema(item, where);
  return item;
}

/** Checks a message against the protocol's schema for its method (400 -32602 with its id when it breaks it). */
export function checkSchema(message: JsonRpcMessage, where = ''): void {
  const { method, id } = message;
  // Most of a session's requests are tool calls: the usual shape is told apart without the schema.
  if (method === 'tools/call' && isPlainToolCall(message)) return;
  const schema = typeof method === 'string' ? CLIENT_METHODS.get(method) : undefined;
  const result = schema?.safeParse(message);
  if (result && !result.success) {
    const rpcId = typeof id === 'string' || typeof id === 'number' ? id : null;
    throw McpErrors.invalidParams(`${String(method)}${where}: ${describe(result.error)}`, rpcId);
  }
}

/** The first problems zod found, as `path: message`. */
function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(message)'}: ${issue.message}`)
    .join('; ');
}

export function batchAllowedIn(version: string): boolean {
  return BATCH_VERSIONS.has(version);
}

/** What the client's Accept header lets us answer with. */
export function acceptedModes(req: McpHttpRequest): { json: boolean; sse: boolean } {
  const accept = (header(req.headers, 'accept') ?? '*/*').toLowerCase();
  const any = accept.includes('*/*');
  return { json: any || accept.includes('application/json'), sse: any || accept.includes('text/event-stream') };
}
