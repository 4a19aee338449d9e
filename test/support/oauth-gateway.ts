import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  authorizeInBrowser,
  freePort,
  ScriptedBrowser,
  startOAuthTopology,
  type OAuthTopology,
  type TestOAuthProvider,
  type TopologyKind,
} from '#testing';
import { EVERYTHING } from './gateway-config.js';

export const SERVICE_TOKEN = 'mixed-service-token-0123456789abcdef';
/** Never contacted: the scripted browser stops at it, as a native client's loopback listener would. */
export const CLIENT_REDIRECT = 'http://127.0.0.1:9/callback';

const USERS = {
  alice: { sub: 'alice', email: 'alice@example.com', email_verified: true, hd: 'example.com', groups: ['eng'] },
  bob: { sub: 'bob', email: 'bob@example.com', email_verified: true, hd: 'example.com' },
  eve: { sub: 'eve', email: 'eve@other.test', email_verified: true },
  mallory: { sub: 'mallory', email: 'mallory@example.com', email_verified: false },
};

export type OAuthGateway = OAuthTopology;

const stdio = { transportType: 'stdio', command: process.execPath, args: [EVERYTHING, 'stdio'] };

/**
 * OAuth in front of server-everything (as `everything` and `other`, and as `mixed` with a static
 * bearer token beside OAuth): SQLite all-in-one, a PostgreSQL database of its own distributed.
 */
export function startOAuthGateway(
  kind: TopologyKind,
  options: { env?: NodeJS.ProcessEnv; basePath?: string; auth?: Record<string, unknown> } = {},
): Promise<OAuthGateway> {
  const mcpServers = { everything: stdio, other: stdio, mixed: { ...stdio, serviceAuths: [{ type: 'bearer', tokens: [SERVICE_TOKEN] }] } };
  return startOAuthTopology(kind, { users: USERS, mcpServers, ...options });
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

/** The SDK client's whole OAuth flow: 401 → discovery → registration → browser → code → token. */
export async function connectWithOAuth(
  gw: OAuthGateway,
  provider: TestOAuthProvider,
  options: { server?: string; fetch?: FetchLike } = {},
): Promise<Client> {
  const url = new URL(`${gw.baseURL}/${options.server ?? 'everything'}/mcp`);
  const first = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  const discovering = new StreamableHTTPClientTransport(url, { authProvider: provider, ...(options.fetch && { fetch: options.fetch }) });
  await expect(first.connect(discovering)).rejects.toBeInstanceOf(UnauthorizedError);
  if (!provider.authorizationUrl) throw new Error('the SDK did not ask for a browser');
  const stop = await authorizeInBrowser(new ScriptedBrowser(), provider.authorizationUrl, CLIENT_REDIRECT);
  if (stop.kind !== 'redirect') throw new Error(`login stopped on a page (${stop.status}): ${stop.html.slice(0, 400)}`);
  expect(stop.url.searchParams.get('iss')).toBe(gw.baseURL);
  const code = stop.url.searchParams.get('code');
  if (!code) throw new Error(`no code: ${stop.url.href}`);
  const finishing = new StreamableHTTPClientTransport(url, { authProvider: provider });
  await finishing.finishAuth(code);
  const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }));
  return client;
}
