import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startStandInIdp, type StandInIdp, type StandInUser } from './stand-in-idp.js';
import { freePort, startTopology, type Topology, type TopologyKind } from './topology.js';

const IDP_CLIENT = { id: 'gatehouse', secret: 'idp-client-secret-0123456789' };
const ENCRYPTION_KEY = 'test-encryption-key-0123456789ab';

export interface OAuthTopologyOptions {
  users: Record<string, StandInUser>;
  /** The config file's `mcpServers`, as written. */
  mcpServers: Record<string, unknown>;
  /** A path every route, the issuer and the resource URIs are under, e.g. "/gw". */
  basePath?: string;
  /** More `proxy.auth` keys, as written (e.g. `refreshTokenReuseGrace`). */
  auth?: Record<string, unknown>;
  /** `proxy.sessions`, as written. */
  sessions?: Record<string, unknown>;
  /** `proxy.audit`, as written. */
  audit?: Record<string, unknown>;
  /** Default: a PostgreSQL database of its own (dropped at stop) for distributed, SQLite for all-in-one. */
  storage?: 'sqlite' | 'postgres' | 'memory';
  runnerCount?: number;
  env?: NodeJS.ProcessEnv;
  /** The gateway's port, when something started first must know its URLs (a free port otherwise). */
  port?: number;
  /** The stand-in IdP gives Gatehouse refresh tokens at login (as an OIDC provider asked for offline_access does). */
  idpRefreshTokens?: boolean;
}

export interface OAuthTopology {
  idp: StandInIdp;
  gateway: Topology;
  baseURL: string;
  dir: string;
  /** The environment the processes run with (for restarting one). */
  env: NodeJS.ProcessEnv;
  configPath: string;
  /** Stops the processes and the IdP, drops the database and deletes the directory. */
  stop(): Promise<void>;
}

/**
 * Gatehouse with OAuth on, logging people in at a stand-in IdP (the real oidc-provider) on
 * loopback, in dev mode (plain http on loopback), on a port chosen first because the issuer
 * names it.
 */
export async function startOAuthTopology(kind: TopologyKind, options: OAuthTopologyOptions): Promise<OAuthTopology> {
  const port = options.port ?? (await freePort());
  const basePath = options.basePath ?? '';
  const baseURL = `http://127.0.0.1:${port}${basePath}`;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-oauth-'));
  const storage = options.storage ?? (kind === 'distributed' ? 'postgres' : 'sqlite');
  const cleanups: (() => Promise<void>)[] = [() => Promise.resolve(rmSync(dir, { recursive: true, force: true }))];
  let stopping: Promise<void> | undefined;
  // Last started, first stopped; once, however often it is called.
  const stop = () =>
    (stopping ??= (async () => {
      for (const cleanup of [...cleanups].reverse()) await cleanup();
    })());
  try {
    const refresh = options.idpRefreshTokens === true;
    const idp = await startStandInIdp({
      users: options.users,
      clients: [
        {
          client_id: IDP_CLIENT.id,
          client_secret: IDP_CLIENT.secret,
          redirect_uris: [`${baseURL}/oauth/callback`],
          ...(refresh && { grant_types: ['authorization_code', 'refresh_token'] }),
        },
      ],
      ...(refresh && { upstream: { refreshTokens: true } }),
    });
    cleanups.push(() => idp.close());
    const database = storage === 'postgres' ? await createDatabase() : undefined;
    if (database) cleanups.push(() => database.drop());
    const configPath = writeConfig(dir, { baseURL, port, idp, storage, options });
    const env = {
      GATEHOUSE_DEV: '1',
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
      IDP_CLIENT_SECRET: IDP_CLIENT.secret,
      GATEHOUSE_ENCRYPTION_KEY: ENCRYPTION_KEY,
      ...(database && { DATABASE_URL: database.url }),
      ...options.env,
    };
    const topologyOptions = { env, addr: `127.0.0.1:${port}`, basePath, ...(options.runnerCount && { runnerCount: options.runnerCount }) };
    const gateway = await startTopology(kind, configPath, topologyOptions);
    cleanups.push(() => gateway.stop().then(() => undefined));
    return { idp, gateway, baseURL, dir, env, configPath, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function writeConfig(
  dir: string,
  at: { baseURL: string; port: number; idp: StandInIdp; storage: string; options: OAuthTopologyOptions },
): string {
  const config = {
    version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
    proxy: {
      baseURL: at.baseURL,
      addr: `127.0.0.1:${at.port}`,
      name: 'test gateway',
      ...(at.options.sessions && { sessions: at.options.sessions }),
      ...(at.options.audit && { audit: at.options.audit }),
      auth: {
        kind: 'oauth',
        idp: { provider: 'oidc', clientId: IDP_CLIENT.id, clientSecret: { $env: 'IDP_CLIENT_SECRET' }, discoveryUrl: at.idp.discoveryUrl },
        allowedDomains: ['example.com'],
        encryptionKey: { $env: 'GATEHOUSE_ENCRYPTION_KEY' },
        storage: at.storage,
        ...at.options.auth,
      },
    },
    mcpServers: at.options.mcpServers,
  };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

/** A PostgreSQL database of its own (at 127.0.0.1:5432, user postgres), dropped afterwards. */
async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gh_e2e_${randomBytes(6).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`CREATE DATABASE ${name}`);
  return { url: `postgres://postgres@127.0.0.1:5432/${name}`, drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
