import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { noTracing, type Tracing } from './tracing.port.js';

export interface TracingSettings {
  /** `service.name` of the spans: OTEL_SERVICE_NAME, else the process's own (`gatehouse-edge`, …). */
  serviceName: string;
  /** Where ended spans go (a test's in-memory exporter); by default batched to the OTLP endpoint. */
  processor?: SpanProcessor;
}

/**
 * The process's tracing: the no-op without settings (no OTLP endpoint configured); otherwise the
 * OpenTelemetry SDK, imported only now, so a process that does not trace never loads it.
 */
export async function startTracing(settings: TracingSettings | undefined): Promise<Tracing> {
  if (!settings) return noTracing;
  const { OtelTracing } = await import('./otel-tracing.js');
  return new OtelTracing(settings);
}
