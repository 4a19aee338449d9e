import { cancelledRequestId, idKey, isRequest, isResponse, metaOf, paramsOf, type JsonRpcMessage } from '#contracts';
import { mcpSpanAttributes, traceHeadersOf, type McpOutcome, type TraceHeaders, type TraceSpan, type Tracing } from '#observability';
import type { BackendConnection } from './backend.port.js';

/** The backend, traced when tracing is on; the very same one when it is off. */
export function tracedBackend(backend: BackendConnection, tracing: Tracing, server: string): BackendConnection {
  return tracing.enabled ? new TracedBackend(backend, tracing, server) : backend;
}

/**
 * A backend whose requests are traced: one span per request, from its relay to the backend's
 * answer (or its cancellation, or the backend's end), in the trace the request's bus message named,
 * else the one its client named in `_meta.traceparent`. The backend receives the span as its
 * parent in `_meta.traceparent` (and `tracestate`), the MCP convention for trace context; the
 * rest of the client's `_meta` passes as it was. Used only when tracing is on.
 */
export class TracedBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  private readonly spans = new Map<string, TraceSpan>();

  constructor(
    private readonly inner: BackendConnection,
    private readonly tracing: Tracing,
    private readonly server: string,
  ) {
    // A backend's output arrives in the trace its process or connection was started in: what it
    // causes (a response published to an edge) belongs to no trace of its own.
    inner.onmessage = (message) => {
      if (isResponse(message)) this.settle(idKey(message.id), message.error === undefined ? 'ok' : 'error');
      tracing.within(undefined, () => this.onmessage?.(message));
    };
    inner.onclose = (reason) => {
      this.settleAll('error');
      tracing.within(undefined, () => this.onclose?.(reason));
    };
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  send(message: JsonRpcMessage): void {
    if (!isRequest(message)) {
      const cancelled = cancelledRequestId(message);
      if (cancelled !== undefined) this.settle(idKey(cancelled), 'cancelled');
      return this.inner.send(message);
    }
    const meta = metaOf(message);
    const span = this.tracing.start(
      `runner ${message.method}`,
      mcpSpanAttributes(this.server, message.method, paramsOf(message)),
      traceHeadersOf(meta),
    );
    // An id the backend still has in flight is refused before it gets here: one span per key.
    this.spans.set(idKey(message.id), span);
    // What the backend does over the bus for this request (an aggregate's member calls) continues its span.
    this.tracing.within(span.context, () => this.inner.send(withTraceContext(message, meta, span.context)));
  }

  close(): Promise<void> {
    this.settleAll('cancelled');
    return this.inner.close();
  }

  private settle(key: string, outcome: McpOutcome): void {
    this.spans.get(key)?.end(outcome);
    this.spans.delete(key);
  }

  private settleAll(outcome: McpOutcome): void {
    for (const span of this.spans.values()) span.end(outcome);
    this.spans.clear();
  }
}

/** A copy of `message` whose `_meta` names `context` as the parent; the client's message is left as it was. */
export function withTraceContext(message: JsonRpcMessage, meta: Record<string, unknown>, context: TraceHeaders): JsonRpcMessage {
  // Positional params (no MCP method has them) have no place for `_meta`.
  if (message.params !== undefined && (typeof message.params !== 'object' || message.params === null || Array.isArray(message.params))) {
    return message;
  }
  // A tracestate of the client's would describe another parent: it goes with the traceparent it came with.
  const own = Object.entries(meta).filter(([key]) => key !== 'traceparent' && key !== 'tracestate');
  return { ...message, params: { ...paramsOf(message), _meta: { ...Object.fromEntries(own), ...context } } };
}
