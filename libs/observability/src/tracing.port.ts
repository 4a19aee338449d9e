import type { McpOutcome } from './metrics.port.js';

/**
 * W3C trace context as HTTP headers, bus headers and an MCP request's `_meta` carry it:
 * `traceparent`, and `tracestate` when there is one.
 */
export type TraceHeaders = Record<string, string>;

/** What a span records: names from the domain (server, method, tool), never arguments, tokens or secrets. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** One unit of work in a trace. */
export interface TraceSpan {
  /** This span as the parent of the next hop; empty for the no-op. */
  readonly context: TraceHeaders;
  /** Records how the work ended; only the first call counts. */
  end(outcome: McpOutcome): void;
}

/**
 * OpenTelemetry traces, behind a port: `noTracing` unless an OTLP endpoint is configured, so a
 * caller checks `enabled` before building anything it would only need for a trace.
 */
export interface Tracing {
  /** False for the no-op: no span, no header, no `_meta` is made. */
  readonly enabled: boolean;
  /**
   * Starts a span in the trace this runs in (see `within`); outside any, in the trace `parent`
   * names (a client's `traceparent` header or `_meta`), else in a new trace. An invalid parent is ignored.
   * `startedAt`: `performance.now()` when the work began, if before now (an HTTP request's arrival).
   */
  start(name: string, attributes: SpanAttributes, parent?: TraceHeaders, startedAt?: number): TraceSpan;
  /** Runs `fn` in the trace `headers` name (none, when absent or invalid): spans and bus messages within continue it. */
  within<T>(headers: TraceHeaders | undefined, fn: () => T): T;
  /** The trace this runs in, as headers for an outgoing message; undefined outside any. */
  outgoing(): TraceHeaders | undefined;
  /** The id of the trace this runs in, for log lines; undefined outside any. */
  traceId(): string | undefined;
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

const NO_SPAN: TraceSpan = { context: {}, end: () => undefined };

/** Tracing off (no OTLP endpoint configured): nothing is made, nothing is sent. */
export const noTracing: Tracing = {
  enabled: false,
  start: () => NO_SPAN,
  within: (_headers, fn) => fn(),
  outgoing: () => undefined,
  traceId: () => undefined,
  shutdown: () => Promise.resolve(),
};

const TRACE_FIELDS = ['traceparent', 'tracestate'] as const;

/**
 * The W3C fields of a header record or `_meta` object, when it has a `traceparent` string; only
 * their shape is taken here, the propagator judges their content.
 */
export function traceHeadersOf(source: Readonly<Record<string, unknown>> | undefined): TraceHeaders | undefined {
  if (!source || typeof source.traceparent !== 'string') return undefined;
  const headers: TraceHeaders = {};
  for (const field of TRACE_FIELDS) {
    const value = source[field];
    if (typeof value === 'string') headers[field] = value;
  }
  return headers;
}
