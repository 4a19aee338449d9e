import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { envelopeOf } from '#crypto';
import { createLogger } from '#observability';
import { CLI, stdioServerConfig } from '#testing';
import { createUserCredentialService } from '../apps/auth/src/credentials/user-credentials.factory.js';
import { openAuthStore } from '../apps/auth/src/persistence/open-auth-store.js';

const KEY = 'c'.repeat(32);
const dir = mkdtempSync(join(tmpdir(), 'gh-tokens-cli-'));
const configPath = join(dir, 'gatehouse.json');
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const NOTION_TOKEN = 'ntn_cli_secret_4711';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as an administrator runs it, with only the environment it needs (no DATABASE_URL: the SQLite file). */
function gatehouse(...args: string[]): Promise<Run> {
  const env = { PATH: process.env.PATH ?? '', GATEHOUSE_DATA_DIR: join(dir, 'data'), KEY, OIDC_SECRET: 'idp-secret' };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  writeFileSync(
    configPath,
    JSON.stringify({
      version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
      proxy: {
        baseURL: 'https://gh.example.com',
        addr: ':8080',
        name: 'Test gateway',
        auth: {
          kind: 'oauth',
          idp: {
            provider: 'oidc',
            clientId: 'gh',
            clientSecret: { $env: 'OIDC_SECRET' },
            discoveryUrl: 'https://login.example.com/.well-known/openid-configuration',
          },
          allowedDomains: ['example.com'],
          encryptionKey: { $env: 'KEY' },
          storage: 'sqlite',
        },
      },
      mcpServers: {
        notion: { transportType: 'stdio', command: 'node', args: [] },
        linear: { transportType: 'stdio', command: 'node', args: [] },
        other: { transportType: 'stdio', command: 'node', args: [] },
      },
    }),
  );
  // What the person's pages would have stored.
  const store = await openAuthStore({ type: 'sqlite', path: join(dir, 'data', 'gatehouse.db') });
  try {
    const service = createUserCredentialService({
      store,
      envelope: envelopeOf(KEY),
      servers: {
        notion: stdioServerConfig('notion', {
          userAuthentication: { type: 'manual', displayName: 'Notion', tokenFormat: '{{token}}' },
        }),
      },
      issuer: 'https://gh.example.com',
      gatewayName: 'Test gateway',
      devMode: false,
      log,
    });
    await service.setManual({ id: 'b1', sub: 'ada-sub', email: 'ada@example.com', authenticatedAt: 0 }, 'notion', NOTION_TOKEN);
    await store.userCredentials.save({
      sub: 'ada-sub',
      email: 'ada@example.com',
      server: 'linear',
      type: 'oauth',
      sealedSecret: 'v1.sealed-elsewhere',
      createdAt: Date.UTC(2026, 0, 2),
      updatedAt: Date.UTC(2026, 0, 3),
      expiresAt: Date.UTC(2026, 0, 4),
    });
  } finally {
    await store.close();
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('gatehouse tokens', () => {
  it("lists a person's credentials without their secrets", async () => {
    const run = await gatehouse('tokens', 'list', '--config', configPath, '--user', 'ada@example.com');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SERVER\s+TYPE\s+CONNECTED SINCE\s+UPDATED\s+EXPIRES$/);
    expect(lines[1]).toMatch(/^linear\s+oauth\s+2026-01-02T00:00:00.000Z\s+2026-01-03T00:00:00.000Z\s+2026-01-04T00:00:00.000Z$/);
    expect(lines[2]).toMatch(/^notion\s+manual\s+\S+Z\s+\S+Z\s+-$/);
    expect(run.stdout).not.toContain(NOTION_TOKEN);

    const one = await gatehouse('tokens', 'list', '--config', configPath, '--user', 'ada@example.com', '--server', 'notion');
    expect(one.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('refuses an unknown user or server with a message and exit 1', async () => {
    const nobody = await gatehouse('tokens', 'list', '--config', configPath, '--user', 'nobody@example.com');
    expect(nobody).toEqual({
      code: 1,
      stdout: '',
      stderr: 'gatehouse tokens: no per-user credentials are stored for nobody@example.com\n',
    });
    const unknown = await gatehouse('tokens', 'revoke', '--config', configPath, '--user', 'ada@example.com', '--server', 'nope');
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toMatch(/there is no server "nope" in the configuration \(servers: notion, linear, other\)/);
    const none = await gatehouse('tokens', 'revoke', '--config', configPath, '--user', 'ada@example.com', '--server', 'other');
    expect(none).toMatchObject({ code: 1, stderr: expect.stringContaining('for server "other"') as string });
    expect((await gatehouse('tokens', 'list', '--config', configPath)).code).not.toBe(0);
  });

  it("revokes one server's credential, then the rest", async () => {
    const one = await gatehouse('tokens', 'revoke', '--config', configPath, '--user', 'ada@example.com', '--server', 'notion');
    expect(one).toMatchObject({ code: 0, stdout: 'revoked notion (manual) for ada@example.com\n' });
    const left = await gatehouse('tokens', 'list', '--config', configPath, '--user', 'ada@example.com');
    expect(left.stdout).not.toMatch(/^notion/m);
    expect(left.stdout).toMatch(/^linear/m);

    const rest = await gatehouse('tokens', 'revoke', '--config', configPath, '--user', 'ada@example.com');
    expect(rest).toMatchObject({ code: 0, stdout: 'revoked linear (oauth) for ada@example.com\n' });
    expect((await gatehouse('tokens', 'list', '--config', configPath, '--user', 'ada@example.com')).code).toBe(1);
  });
});
