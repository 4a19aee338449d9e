import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { AuthStore } from './auth-store.port.js';
import { auditEventSchema } from './audit-event.schema.js';
import { authEntities } from './entities.js';
import { Initial1795706400000 } from './migrations/1795706400000-initial.js';
import { RefreshTokenSuccessor1796169600000 } from './migrations/1796169600000-refresh-token-successor.js';
import { UserCredentials1796774400000 } from './migrations/1796774400000-user-credentials.js';
import { RememberedConsent1797100000000 } from './migrations/1797100000000-remembered-consent.js';
import { AuditEvents1797200000000 } from './migrations/1797200000000-audit-events.js';
import { SqlAuthStore } from './sql-auth-store.js';

/** Where auth keeps its records: a SQLite file (or ':memory:') or a PostgreSQL database, optionally in its own schema. */
export type AuthStoreOptions = { type: 'sqlite'; path: string } | { type: 'postgres'; url: string; schema?: string };

const migrations = [
  Initial1795706400000,
  RefreshTokenSuccessor1796169600000,
  UserCredentials1796774400000,
  RememberedConsent1797100000000,
  AuditEvents1797200000000,
];

const entities = [...authEntities, auditEventSchema];

/** Any fixed 64-bit number; replicas starting together take turns migrating under it. */
const MIGRATION_LOCK = '7312014117';

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Connects, brings the schema up to date with the migrations (never `synchronize`), and returns the store. */
export async function openAuthStore(options: AuthStoreOptions): Promise<AuthStore> {
  if (options.type === 'postgres' && options.schema !== undefined && !SCHEMA_NAME.test(options.schema)) {
    throw new Error('the PostgreSQL schema name must be a plain SQL identifier');
  }
  if (options.type === 'sqlite' && options.path !== ':memory:') await mkdir(dirname(options.path), { recursive: true });
  const dataSource = new DataSource(dataSourceOptions(options));
  await dataSource.initialize();
  try {
    if (options.type === 'postgres') await migratePostgres(dataSource, options.schema);
    else await dataSource.runMigrations({ transaction: 'all' });
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return new SqlAuthStore(dataSource);
}

function dataSourceOptions(options: AuthStoreOptions): DataSourceOptions {
  const common = { entities, migrations, migrationsRun: false, synchronize: false, logging: false } as const;
  if (options.type === 'sqlite') {
    return { ...common, type: 'better-sqlite3', database: options.path, enableWAL: options.path !== ':memory:' };
  }
  return { ...common, type: 'postgres', url: options.url, schema: options.schema };
}

/** Creates the schema if missing and runs the migrations, holding an advisory lock so concurrent replicas do not race. */
async function migratePostgres(dataSource: DataSource, schema: string | undefined): Promise<void> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      if (schema !== undefined) await createSchemaIfMissing(dataSource, schema);
      await dataSource.runMigrations({ transaction: 'all' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await lock.release();
  }
}

/** Checks first, so a role without CREATE on the database can still use a schema made for it. */
async function createSchemaIfMissing(dataSource: DataSource, schema: string): Promise<void> {
  const found: unknown = await dataSource.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (Array.isArray(found) && found.length > 0) return;
  await dataSource.query(`CREATE SCHEMA IF NOT EXISTS ${dataSource.driver.escape(schema)}`);
}
