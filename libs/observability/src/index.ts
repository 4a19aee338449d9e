export * from './bounded-log-stream.js';
export * from './logger.js';
export * from './nest-logger.js';
export * from './metric-labels.js';
export * from './metrics.port.js';
export * from './metrics-server.js';
export * from './prometheus-metrics.js';
