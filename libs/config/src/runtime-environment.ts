import { resolve } from 'node:path';

/** Settings every service reads from its environment rather than from the config file. */
export interface RuntimeEnvironment {
  /** NATS_URL; the distributed mode's bus. */
  natsUrl: string;
  /** GATEHOUSE_DATA_DIR as an absolute path; SQLite and generated keys live here. */
  dataDir: string;
  /** GATEHOUSE_DEV=1 relaxes production-only checks. */
  devMode: boolean;
  /** LOG_LEVEL, a pino level. */
  logLevel: string;
  /** DATABASE_URL; PostgreSQL when set, SQLite in dataDir otherwise. */
  databaseUrl: string | undefined;
}

/** An empty variable counts as unset, as `VAR= command` is how people unset one for a run. */
function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function readRuntimeEnvironment(env: NodeJS.ProcessEnv = process.env): RuntimeEnvironment {
  return {
    natsUrl: read(env, 'NATS_URL') ?? 'nats://127.0.0.1:4222',
    dataDir: resolve(read(env, 'GATEHOUSE_DATA_DIR') ?? './data'),
    devMode: env.GATEHOUSE_DEV === '1',
    logLevel: read(env, 'LOG_LEVEL') ?? 'info',
    databaseUrl: read(env, 'DATABASE_URL'),
  };
}

/**
 * What a backend subprocess may inherit: locale, paths and terminal settings that programs need
 * to start, never Gatehouse's own settings or secrets. Upper-case; matched case-insensitively
 * because Windows spells them freely (`Path`, `SystemRoot`).
 */
const CHILD_PROCESS_ALLOWLIST = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'LC_MESSAGES',
  'TZ',
  'TMPDIR',
  'TEMP',
  'TMP',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // Windows programs fail to start without these.
  'SYSTEMROOT',
  'SYSTEMDRIVE',
  'WINDIR',
  'COMSPEC',
  'PATHEXT',
  'USERNAME',
  'USERPROFILE',
  'APPDATA',
  'LOCALAPPDATA',
  'HOMEDRIVE',
  'HOMEPATH',
  'PROGRAMFILES',
  'PROCESSOR_ARCHITECTURE',
]);

/** The allowlisted variables that are present, for a backend subprocess to start from. */
export function childProcessBaseEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    // A value starting with "()" is an exported bash function: code, not a setting.
    if (value !== undefined && !value.startsWith('()') && CHILD_PROCESS_ALLOWLIST.has(name.toUpperCase())) {
      base[name] = value;
    }
  }
  return base;
}
