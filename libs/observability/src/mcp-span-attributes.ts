import type { SpanAttributes } from './tracing.port.js';

/** Tool names are the client's to write: a span keeps this much of one. */
const TOOL_NAME_LIMIT = 128;

/**
 * What the edge and runner spans of an MCP request record: the server, the method and, for
 * tools/call, the tool's name (`params` of the request). Never arguments, nothing of the caller.
 */
export function mcpSpanAttributes(server: string, method: string, params: Readonly<Record<string, unknown>>): SpanAttributes {
  const attributes: SpanAttributes = { 'mcp.server': server, 'mcp.method.name': method };
  if (method === 'tools/call' && typeof params.name === 'string') attributes['gen_ai.tool.name'] = params.name.slice(0, TOOL_NAME_LIMIT);
  return attributes;
}
