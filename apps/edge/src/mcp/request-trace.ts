import { isRequest, metaOf, paramsOf, type JsonRpcMessage } from '#contracts';
import { mcpSpanAttributes, traceHeadersOf, type TraceHeaders, type TraceSpan, type Tracing } from '#observability';
import type { McpHttpRequest } from './http-io.js';
import type { RequestMeter } from './request-meter.js';

export interface TracedRequests {
  /** The meter to hand on: it also ends each request's span, with the outcome it counts. */
  meter: RequestMeter;
  /** The trace the messages sent to the runner for this HTTP request carry; undefined when tracing is off. */
  context: TraceHeaders | undefined;
}

/**
 * One SERVER span per JSON-RPC request of a POST, from the HTTP request's arrival to its answer,
 * in the trace the client names: its `traceparent` header, else the request's `_meta.traceparent`.
 * The bus message carrying a batch names the first request's span (batches are rare: 2025-03-26 only).
 */
export function traceRequests(
  tracing: Tracing,
  server: string,
  req: McpHttpRequest,
  messages: readonly JsonRpcMessage[],
  meter: RequestMeter,
): TracedRequests {
  if (!tracing.enabled) return { meter, context: undefined };
  const fromHeaders = traceHeadersOf(req.headers);
  // Spans by method, in order: the meter names a request by its method only, and answers mostly come in order.
  const open = new Map<string, TraceSpan[]>();
  let context: TraceHeaders | undefined;
  for (const message of messages) {
    if (!isRequest(message)) continue;
    const parent = fromHeaders ?? traceHeadersOf(metaOf(message));
    const span = tracing.start(
      `mcp ${message.method}`,
      mcpSpanAttributes(server, message.method, paramsOf(message)),
      parent,
      req.receivedAt,
    );
    context ??= span.context;
    open.set(message.method, [...(open.get(message.method) ?? []), span]);
  }
  return {
    context,
    meter: (method, outcome) => {
      open.get(method)?.shift()?.end(outcome);
      meter(method, outcome);
    },
  };
}
