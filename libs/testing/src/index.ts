export * from './gateway-process.js';
export * from './processes.js';
export * from './topology.js';
export * from './stand-in-idp.js';
export * from './oauth-test-client.js';
export * from './scripted-browser.js';
export * from './oauth-topology.js';
export * from './fuzz-run.js';
