export * from './compare.js';
export * from './envelope.js';
export * from './hash.js';
export * from './random.js';
