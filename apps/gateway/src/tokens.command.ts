import type { GatehouseConfig, RuntimeEnvironment } from '#config';
import { envelopeOf } from '#crypto';
import { createLogger } from '#observability';
import { textTable } from './text-table.js';
import type { AuthStore, UserCredentialRecord } from '../../auth/src/persistence/auth-store.port.js';

export type TokensAction = 'list' | 'revoke';

export interface TokensOptions {
  user: string;
  server?: string;
}

/** A refusal for the administrator: printed as it is, exit 1. */
class TokensRefused extends Error {}

/**
 * `gatehouse tokens list|revoke --user EMAIL [--server NAME]`: an administrator's view of the per-user
 * credentials in auth's store. Never prints a secret; revoke also revokes oauth ones at the service.
 */
export async function runTokensCommand(action: TokensAction, options: TokensOptions, config: GatehouseConfig, runtime: RuntimeEnvironment) {
  const auth = config.auth;
  if (auth === undefined) return refuse('per-user credentials are kept by auth: this configuration has no proxy.auth');
  if (auth.storage === 'memory')
    return refuse('proxy.auth.storage is "memory": no credentials outlive the process, so there is nothing to list');
  if (options.server !== undefined && config.servers[options.server] === undefined) {
    return refuse(
      `there is no server "${options.server}" in the configuration (servers: ${Object.keys(config.servers).join(', ') || 'none'})`,
    );
  }
  // Logs to stderr, warnings only: stdout is the answer.
  const log = createLogger({ service: 'tokens', level: 'warn', destination: process.stderr });
  // Loaded here, not at start-up: every other command of the CLI would load auth's storage too.
  const { openConfiguredStore } = await import('../../auth/src/auth.factory.js');
  const store = await openConfiguredStore(auth.storage, runtime, log);
  try {
    const records = (await store.userCredentials.listByEmail(options.user)).filter(
      (r) => options.server === undefined || r.server === options.server,
    );
    if (records.length === 0) {
      const where = options.server === undefined ? '' : ` for server "${options.server}"`;
      throw new TokensRefused(`no per-user credentials are stored for ${options.user}${where}`);
    }
    if (action === 'list') process.stdout.write(table(records));
    else await revoke(records, store, config, runtime, log);
  } catch (err) {
    if (err instanceof TokensRefused) return refuse(err.message);
    throw err;
  } finally {
    await store.close();
  }
}

async function revoke(
  records: UserCredentialRecord[],
  store: AuthStore,
  config: GatehouseConfig,
  runtime: RuntimeEnvironment,
  log: ReturnType<typeof createLogger>,
): Promise<void> {
  const auth = config.auth;
  if (auth === undefined) return;
  const { createUserCredentialService } = await import('../../auth/src/credentials/user-credentials.factory.js');
  const service = createUserCredentialService({
    store,
    envelope: envelopeOf(auth.encryptionKey, auth.previousEncryptionKeys),
    servers: config.servers,
    issuer: auth.issuer,
    gatewayName: config.proxy.name,
    devMode: runtime.devMode,
    log,
  });
  for (const record of records) {
    await service.revokeAtService(record);
    await store.userCredentials.delete(record.sub, record.server);
    if (config.proxy.audit.enabled) {
      const who = { sub: record.sub, ...(record.email !== undefined && { email: record.email }) };
      const detail = `${record.type === 'oauth' ? 'connection' : 'manual token'} revoked by an administrator (gatehouse tokens revoke)`;
      await store.auditEvents.append([{ at: Date.now(), kind: 'credential', outcome: 'ok', ...who, server: record.server, detail }]);
    }
    process.stdout.write(`revoked ${record.server} (${record.type}) for ${record.email ?? record.sub}\n`);
  }
}

function table(records: UserCredentialRecord[]): string {
  const rows = [
    ['SERVER', 'TYPE', 'CONNECTED SINCE', 'UPDATED', 'EXPIRES'],
    ...records.map((r) => [r.server, r.type, iso(r.createdAt), iso(r.updatedAt), r.expiresAt === undefined ? '-' : iso(r.expiresAt)]),
  ];
  return textTable(rows);
}

const iso = (ms: number) => new Date(ms).toISOString();

function refuse(message: string): void {
  process.stderr.write(`gatehouse tokens: ${message}\n`);
  process.exitCode = 1;
}
