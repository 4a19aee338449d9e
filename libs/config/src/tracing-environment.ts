/** Tracing as the standard OpenTelemetry variables configure it. */
export interface TracingEnvironment {
  /** The `service.name` spans carry: OTEL_SERVICE_NAME, else the name the process gives itself. */
  serviceName: string;
}

/**
 * Traces are exported only when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED is not `true`; undefined otherwise.
 * The exporter and batch processor read their other OTEL_* variables themselves.
 */
export function readTracingEnvironment(defaultServiceName: string, env: NodeJS.ProcessEnv = process.env): TracingEnvironment | undefined {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  return { serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName };
}
