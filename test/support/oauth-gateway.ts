import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startStandInIdp, startTopology, type StandInIdp, type Topology, type TopologyKind } from '#testing';
import { EVERYTHING } from './gateway-config.js';

export const IDP_CLIENT = { id: 'gatehouse', secret: 'idp-client-secret-0123456789' };
export const ENCRYPTION_KEY = 'e2e-encryption-key-0123456789abc';
export const SERVICE_TOKEN = 'mixed-service-token-0123456789abcdef';
/** Never contacted: the scripted browser stops at it, as a native client's loopback listener would. */
export const CLIENT_REDIRECT = 'http://127.0.0.1:9/callback';

export const USERS = {
  alice: { sub: 'alice', email: 'alice@example.com', email_verified: true, hd: 'example.com', groups: ['eng'] },
  bob: { sub: 'bob', email: 'bob@example.com', email_verified: true, hd: 'example.com' },
  eve: { sub: 'eve', email: 'eve@other.test', email_verified: true },
  mallory: { sub: 'mallory', email: 'mallory@example.com', email_verified: false },
};

export interface OAuthGateway {
  idp: StandInIdp;
  gateway: Topology;
  baseURL: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  configPath: string;
  stop(): Promise<void>;
}

const stdio = { transportType: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'] };

/**
 * A gateway with OAuth in front of server-everything, logging people in at a stand-in IdP
 * (oidc-provider). All-in-one keeps its records in SQLite; distributed in a fresh PostgreSQL
 * database. Dev mode, as the IdP and the gateway speak plain http on loopback.
 */
export async function startOAuthGateway(
  kind: TopologyKind,
  options: { env?: NodeJS.ProcessEnv; basePath?: string } = {},
): Promise<OAuthGateway> {
  const port = await freePort();
  const basePath = options.basePath ?? '';
  const baseURL = `http://127.0.0.1:${port}${basePath}`;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-oauth-'));
  const idp = await startStandInIdp({
    users: USERS,
    clients: [{ client_id: IDP_CLIENT.id, client_secret: IDP_CLIENT.secret, redirect_uris: [`${baseURL}/oauth/callback`] }],
  });
  const database = kind === 'distributed' ? await createDatabase() : undefined;
  const config = {
    version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
    proxy: {
      baseURL,
      addr: `127.0.0.1:${port}`,
      name: 'e2e gateway',
      auth: {
        kind: 'oauth',
        idp: { provider: 'oidc', clientId: IDP_CLIENT.id, clientSecret: { $env: 'IDP_CLIENT_SECRET' }, discoveryUrl: idp.discoveryUrl },
        allowedDomains: ['example.com'],
        encryptionKey: { $env: 'GATEHOUSE_ENCRYPTION_KEY' },
        storage: database ? 'postgres' : 'sqlite',
      },
    },
    mcpServers: {
      everything: stdio,
      other: stdio,
      mixed: { ...stdio, serviceAuths: [{ type: 'bearer', tokens: [SERVICE_TOKEN] }] },
    },
  };
  const configPath = join(dir, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const env = {
    GATEHOUSE_DEV: '1',
    GATEHOUSE_DATA_DIR: join(dir, 'data'),
    IDP_CLIENT_SECRET: IDP_CLIENT.secret,
    GATEHOUSE_ENCRYPTION_KEY: ENCRYPTION_KEY,
    ...(database && { DATABASE_URL: database.url }),
    ...options.env,
  };
  let gateway: Topology;
  try {
    gateway = await startTopology(kind, configPath, { env, addr: `127.0.0.1:${port}`, basePath });
  } catch (err) {
    await idp.close();
    await database?.drop();
    throw err;
  }
  return {
    idp,
    gateway,
    baseURL,
    dir,
    env,
    configPath,
    stop: async () => {
      await gateway.stop();
      await idp.close();
      await database?.drop();
    },
  };
}

/** A PostgreSQL database of its own for one suite, dropped afterwards. */
async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gh_e2e_${randomBytes(6).toString('hex')}`;
  const admin = 'postgres://postgres@127.0.0.1:5432/postgres';
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
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

/** A self-signed certificate for 127.0.0.1, for an https client metadata document server. */
export function selfSignedCertificate(dir: string): { certPath: string; cert: string; key: string } {
  const certPath = join(dir, 'cimd-cert.pem');
  const keyPath = join(dir, 'cimd-key.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyPath, '-out', certPath],
    ],
    { stdio: 'ignore' },
  );
  return { certPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

/** Serves one client metadata document over https on 127.0.0.1; `clientId` is its URL. */
export async function serveClientMetadata(
  tls: { cert: string; key: string },
  document: (clientId: string) => Record<string, unknown>,
): Promise<{ clientId: string; server: Server; close(): Promise<void> }> {
  const port = await freePort();
  const clientId = `https://127.0.0.1:${port}/oauth/client.json`;
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    if (req.url !== '/oauth/client.json') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(JSON.stringify(document(clientId)));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { clientId, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Status and challenge of an `initialize` POST to a server with `authorization`. */
export async function mcpStatus(
  baseURL: string,
  server: string,
  authorization: string,
): Promise<{ status: number; challenge: string | null }> {
  const res = await fetch(`${baseURL}/${server}/mcp`, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'oauth-e2e', version: '1' } },
    }),
  });
  await res.body?.cancel();
  return { status: res.status, challenge: res.headers.get('www-authenticate') };
}

/** Polls until the edge refuses the token (revocations reach edges over the bus); how long it took. */
export async function refusedWithin(baseURL: string, ms: number, accessToken: string): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if ((await mcpStatus(baseURL, 'everything', `Bearer ${accessToken}`)).status === 401) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`token still accepted after ${ms} ms`);
}
