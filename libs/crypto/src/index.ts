export * from './compare.js';
export * from './random.js';
