import { AsyncLocalStorage } from 'node:async_hooks';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { McpOutcome } from './metrics.port.js';
import type { SpanAttributes, TraceHeaders, TraceSpan, Tracing } from './tracing.port.js';

export interface OtelTracingOptions {
  /** `service.name` of every span this process exports. */
  serviceName: string;
  /** Where ended spans go; by default batched to OTLP over HTTP, configured by the standard OTEL_* variables. */
  processor?: SpanProcessor;
}

const propagator = new W3CTraceContextPropagator();
/** Shutdown waits this long for the last export: well within the process's shutdown grace. */
const SHUTDOWN_EXPORT_MS = 3000;

/**
 * Tracing with the OpenTelemetry SDK. Loaded only when an endpoint is configured (see
 * startTracing). Nothing is registered globally: in one process (`gatehouse serve`) or a test,
 * each instance keeps its own provider and its own notion of the current trace.
 */
export class OtelTracing implements Tracing {
  readonly enabled = true;
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly current = new AsyncLocalStorage<Context | undefined>();

  constructor(options: OtelTracingOptions) {
    const processor = options.processor ?? new BatchSpanProcessor(new OTLPTraceExporter());
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      spanProcessors: [processor],
    });
    this.tracer = this.provider.getTracer('gatehouse');
  }

  start(name: string, attributes: SpanAttributes, parent?: TraceHeaders, startedAt?: number): TraceSpan {
    const context = this.current.getStore() ?? (parent && contextOf(parent)) ?? ROOT_CONTEXT;
    const startTime = startedAt === undefined ? undefined : performance.timeOrigin + startedAt;
    return new OtelSpan(this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, startTime }, context));
  }

  within<T>(headers: TraceHeaders | undefined, fn: () => T): T {
    return this.current.run(headers && contextOf(headers), fn);
  }

  outgoing(): TraceHeaders | undefined {
    const context = this.current.getStore();
    return context && headersOf(context);
  }

  traceId(): string | undefined {
    const context = this.current.getStore();
    return context && trace.getSpanContext(context)?.traceId;
  }

  /** Rejects when the last export fails; never takes longer than SHUTDOWN_EXPORT_MS (a collector that does not answer). */
  async shutdown(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the last spans were not exported within ${SHUTDOWN_EXPORT_MS} ms`)), SHUTDOWN_EXPORT_MS);
    });
    try {
      await Promise.race([this.provider.shutdown(), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

class OtelSpan implements TraceSpan {
  readonly context: TraceHeaders;
  private ended = false;

  constructor(private readonly span: Span) {
    this.context = headersOf(trace.setSpan(ROOT_CONTEXT, span));
  }

  end(outcome: McpOutcome): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute('gatehouse.outcome', outcome);
    if (outcome === 'error') this.span.setStatus({ code: SpanStatusCode.ERROR });
    this.span.end();
  }
}

/** The context W3C headers name; undefined when they name none validly (a client's malformed traceparent is ignored). */
function contextOf(headers: TraceHeaders): Context | undefined {
  const context = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  return trace.getSpanContext(context) ? context : undefined;
}

function headersOf(context: Context): TraceHeaders {
  const headers: TraceHeaders = {};
  propagator.inject(context, headers, defaultTextMapSetter);
  return headers;
}
