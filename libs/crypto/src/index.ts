export * from './compare.js';
export * from './hash.js';
export * from './random.js';
