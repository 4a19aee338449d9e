export * from './bounded-log-stream.js';
export * from './logger.js';
export * from './nest-logger.js';
