import { JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { JsonRpcCode, JsonRpcMessageSchema, type JsonRpcMessage } from '#contracts';
import { header, McpHttpError, type McpHttpRequest } from './http-io.js';

/** What a request without MCP-Protocol-Version is taken to speak, as the spec says. */
export const DEFAULT_PROTOCOL_VERSION = '2025-03-26';
/** JSON-RPC batches exist only in this version (and the legacy SSE transport's). */
const BATCH_VERSIONS = new Set(['2025-03-26', '2024-11-05']);

export interface ParsedBody {
  messages: JsonRpcMessage[];
  batch: boolean;
}

/**
 * The protocol version a non-initialize request speaks; 400 when it is one we do not. Besides the
 * streamable HTTP versions (2025-03-26 on), the older ones the SDK negotiates are accepted: a
 * backend may agree on one of those at initialize, and the client then sends it.
 */
export function protocolVersionOf(req: McpHttpRequest): string {
  const version = header(req.headers, 'mcp-protocol-version') ?? DEFAULT_PROTOCOL_VERSION;
  if (!SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
    throw new McpHttpError(
      400,
      JsonRpcCode.invalidRequest,
      `Unsupported MCP-Protocol-Version ${JSON.stringify(version)}; supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
    );
  }
  return version;
}

/** Checks the content type and parses one JSON-RPC message or a batch of them. */
export function parseBody(req: McpHttpRequest, batchAllowed: boolean): ParsedBody {
  const contentType = header(req.headers, 'content-type') ?? '';
  if (contentType.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    throw new McpHttpError(415, JsonRpcCode.invalidRequest, 'Content-Type must be application/json');
  }
  let json: unknown;
  try {
    json = JSON.parse(req.body?.toString('utf8') ?? '');
  } catch {
    throw new McpHttpError(400, JsonRpcCode.parseError, 'Parse error: the body is not valid JSON');
  }
  const batch = Array.isArray(json);
  const items: unknown[] = Array.isArray(json) ? json : [json];
  if (batch && !batchAllowed) {
    throw new McpHttpError(400, JsonRpcCode.invalidRequest, 'JSON-RPC batches are not part of this protocol version');
  }
  if (items.length === 0) throw new McpHttpError(400, JsonRpcCode.invalidRequest, 'Invalid Request: empty batch');
  const messages = items.map((item, i) => {
    const message = JsonRpcMessageSchema.safeParse(item);
    if (!message.success || !JSONRPCMessageSchema.safeParse(item).success) {
      const where = batch ? ` (batch item ${i})` : '';
      throw new McpHttpError(400, JsonRpcCode.invalidRequest, `Invalid Request: not a JSON-RPC 2.0 message${where}`);
    }
    return message.data;
  });
  if (batch && messages.some((m) => m.method === 'initialize')) {
    throw new McpHttpError(400, JsonRpcCode.invalidRequest, 'Invalid Request: initialize must not be part of a batch');
  }
  return { messages, batch };
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
