/** Injection tokens of the edge module. */
export const EDGE_LOGGER = Symbol('EdgeLogger');
export const EDGE_OPTIONS = Symbol('EdgeOptions');
export const EDGE_METRICS = Symbol('EdgeMetrics');
export const EDGE_TRACING = Symbol('EdgeTracing');
