export * from './gateway-process.js';
export * from './processes.js';
export * from './topology.js';
