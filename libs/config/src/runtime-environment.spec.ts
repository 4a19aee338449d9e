import { resolve } from 'node:path';
import { childProcessBaseEnvironment, readRuntimeEnvironment } from './runtime-environment.js';

describe('readRuntimeEnvironment', () => {
  it('applies defaults', () => {
    expect(readRuntimeEnvironment({})).toEqual({
      natsUrl: 'nats://127.0.0.1:4222',
      dataDir: resolve('data'),
      devMode: false,
      logLevel: 'info',
      databaseUrl: undefined,
    });
  });

  it('reads each variable, resolving the data directory to an absolute path', () => {
    const runtime = readRuntimeEnvironment({
      NATS_URL: 'nats://nats:4222',
      GATEHOUSE_DATA_DIR: 'var/gh',
      GATEHOUSE_DEV: '1',
      LOG_LEVEL: 'debug',
      DATABASE_URL: 'postgres://gh@db/gh',
    });
    expect(runtime).toEqual({
      natsUrl: 'nats://nats:4222',
      dataDir: resolve('var/gh'),
      devMode: true,
      logLevel: 'debug',
      databaseUrl: 'postgres://gh@db/gh',
    });
  });

  it('treats empty variables as unset and only "1" as dev mode', () => {
    const runtime = readRuntimeEnvironment({ NATS_URL: '', DATABASE_URL: '', GATEHOUSE_DEV: 'true' });
    expect(runtime).toMatchObject({ natsUrl: 'nats://127.0.0.1:4222', databaseUrl: undefined, devMode: false });
  });
});

describe('childProcessBaseEnvironment', () => {
  const env = {
    PATH: '/usr/bin:/bin',
    HOME: '/home/gh',
    LANG: 'C.UTF-8',
    TZ: 'UTC',
    NODE_EXTRA_CA_CERTS: '/etc/ssl/corp.pem',
    SystemRoot: 'C:\\Windows',
    NATS_URL: 'nats://nats:4222',
    GATEHOUSE_TOKEN: 'gh-secret',
    GATEHOUSE_DATA_DIR: '/data',
    DATABASE_URL: 'postgres://user:pw@db/gh',
    AWS_SECRET_ACCESS_KEY: 'aws-secret',
    GITHUB_TOKEN: 'ghp_x',
    NODE_OPTIONS: '--require /tmp/evil.js',
    LD_PRELOAD: '/tmp/evil.so',
    UNSET: undefined,
  };

  it('keeps the allowlisted variables that are present', () => {
    expect(childProcessBaseEnvironment(env)).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/gh',
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      NODE_EXTRA_CA_CERTS: '/etc/ssl/corp.pem',
      SystemRoot: 'C:\\Windows',
    });
  });

  it('drops Gatehouse settings, secrets and loader hooks', () => {
    const base = childProcessBaseEnvironment(env);
    for (const name of [
      'NATS_URL',
      'GATEHOUSE_TOKEN',
      'GATEHOUSE_DATA_DIR',
      'DATABASE_URL',
      'AWS_SECRET_ACCESS_KEY',
      'GITHUB_TOKEN',
      'NODE_OPTIONS',
      'LD_PRELOAD',
    ]) {
      expect(base).not.toHaveProperty(name);
    }
    expect(JSON.stringify(base)).not.toMatch(/secret|ghp_|pw@/);
  });

  it('drops exported bash functions', () => {
    expect(childProcessBaseEnvironment({ PATH: '/bin', TERM: '() { :; }; echo pwned' })).toEqual({ PATH: '/bin' });
  });

  it('reads process.env by default', () => {
    expect(childProcessBaseEnvironment().PATH).toBe(process.env.PATH);
  });
});
