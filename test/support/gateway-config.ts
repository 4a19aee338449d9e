import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EVERYTHING = fileURLToPath(
  new URL('../../node_modules/@modelcontextprotocol/server-everything/dist/index.js', import.meta.url),
);

export const TOKENS = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef', carol: 'carol-token-0123456789abcdef' };

/** A config for the e2e suites: server-everything over stdio behind bearer tokens. */
export function writeGatewayConfig(options: { maxPerUser: number; runnerGroup: string }): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-'));
  const config = {
    version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
    proxy: {
      baseURL: 'http://127.0.0.1:8080',
      addr: '127.0.0.1:8080',
      name: 'e2e',
      sessions: { timeout: '5m', cleanupInterval: '1m', maxPerUser: options.maxPerUser },
    },
    mcpServers: {
      everything: {
        transportType: 'stdio',
        command: process.execPath,
        args: [EVERYTHING, 'stdio'],
        env: { GREETING: 'configured-value' },
        serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'E2E_TOKEN_ALICE' }, TOKENS.bob, TOKENS.carol] }],
        runnerGroup: options.runnerGroup,
      },
      open: {
        transportType: 'stdio',
        command: process.execPath,
        args: [EVERYTHING, 'stdio'],
        runnerGroup: options.runnerGroup,
      },
      filtered: {
        transportType: 'stdio',
        command: process.execPath,
        args: [EVERYTHING, 'stdio'],
        options: { toolFilter: { mode: 'allow', list: ['echo'] } },
        serviceAuths: [{ type: 'basic', username: 'svc', password: 'basic-password' }],
        runnerGroup: options.runnerGroup,
      },
    },
  };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return { path, dir };
}

/** The environment the gateway processes get: the secret behind `$env` plus things a backend must never see. */
export const GATEWAY_ENV = { E2E_TOKEN_ALICE: TOKENS.alice, GATEHOUSE_SECRET_CANARY: 'canary-must-not-leak' };
