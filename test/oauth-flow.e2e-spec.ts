import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { decodeJwt } from 'jose';
import { startGatehouse, TestOAuthProvider, type TopologyKind } from '#testing';
import { textOf } from './support/mcp-clients.js';
import {
  CLIENT_REDIRECT,
  connectWithOAuth,
  selfSignedCertificate,
  serveClientMetadata,
  startOAuthGateway,
  type OAuthGateway,
} from './support/oauth-gateway.js';

async function echo(client: Client, message: string): Promise<string> {
  return textOf(await client.callTool({ name: 'echo', arguments: { message } }));
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('OAuth with the MCP SDK client (%s)', (kind) => {
  let gw: OAuthGateway;
  let tlsDir: string;
  let tls: ReturnType<typeof selfSignedCertificate>;
  let cimd: Awaited<ReturnType<typeof serveClientMetadata>>;

  beforeAll(async () => {
    tlsDir = mkdtempSync(join(tmpdir(), 'gatehouse-cimd-'));
    tls = selfSignedCertificate(tlsDir);
    cimd = await serveClientMetadata(tls, (clientId) => ({
      client_id: clientId,
      client_name: 'CIMD e2e client',
      redirect_uris: [CLIENT_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }));
    gw = await startOAuthGateway(kind, { env: { NODE_EXTRA_CA_CERTS: tls.certPath } });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
    await cimd?.close();
    rmSync(tlsDir, { recursive: true, force: true });
  });

  it('registers dynamically, logs in at the IdP, calls tools, and refreshes with rotation', async () => {
    gw.idp.loginAs('alice');
    const provider = new TestOAuthProvider({ redirectUrl: CLIENT_REDIRECT });
    const client = await connectWithOAuth(gw, provider);
    expect(await echo(client, 'hello over OAuth')).toContain('hello over OAuth');

    const tokens = provider.tokens();
    const claims = decodeJwt(tokens?.access_token ?? '');
    expect(claims).toMatchObject({ iss: gw.baseURL, email: 'alice@example.com', aud: [`${gw.baseURL}/everything`], scope: 'mcp' });
    expect(tokens?.refresh_token).toBeDefined();

    // An access token the edge refuses makes the SDK refresh (rotating the refresh token) and retry.
    provider.saveTokens({ ...tokens!, access_token: 'not-a-valid-token' });
    expect(await echo(client, 'after refresh')).toContain('after refresh');
    expect(provider.tokens()?.refresh_token).not.toBe(tokens?.refresh_token);
    await client.close();
  });

  it('accepts a client identified by a client metadata document (CIMD)', async () => {
    gw.idp.loginAs('bob');
    const provider = new TestOAuthProvider({ redirectUrl: CLIENT_REDIRECT, clientMetadataUrl: cimd.clientId });
    const client = await connectWithOAuth(gw, provider);
    expect(provider.clientInformation()?.client_id).toBe(cimd.clientId);
    expect(decodeJwt(provider.tokens()?.access_token ?? '')).toMatchObject({ client_id: cimd.clientId, email: 'bob@example.com' });
    expect(await echo(client, 'cimd')).toContain('cimd');
    await client.close();
  });

  it('refuses a token for another server with a challenge naming that server', async () => {
    gw.idp.loginAs('alice');
    const provider = new TestOAuthProvider({ redirectUrl: CLIENT_REDIRECT });
    const client = await connectWithOAuth(gw, provider);
    await client.close();
    const res = await fetch(`${gw.baseURL}/other/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${provider.tokens()?.access_token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${gw.baseURL}/.well-known/oauth-protected-resource/other"`);
  });

  if (kind === 'distributed') {
    it('keeps a session and its token working across an auth restart, and refreshes afterwards', async () => {
      gw.idp.loginAs('alice');
      const provider = new TestOAuthProvider({ redirectUrl: CLIENT_REDIRECT });
      const client = await connectWithOAuth(gw, provider);
      const auth = gw.gateway.all.find((p) => p.args[0] === 'auth');
      if (!auth) throw new Error('no auth process');
      await auth.stop();
      expect(await echo(client, 'auth is down')).toContain('auth is down');
      const restarted = startGatehouse(['auth', '--config', gw.configPath], gw.env);
      gw.gateway.all.push(restarted);
      await restarted.waitFor(/auth ready/);
      provider.saveTokens({ ...provider.tokens()!, access_token: 'expired-in-effect' });
      expect(await echo(client, 'refreshed after restart')).toContain('refreshed after restart');
      await client.close();
    });
  }
});

describe('OAuth with the MCP SDK client under a base path (all-in-one)', () => {
  let gw: OAuthGateway;

  beforeAll(async () => {
    gw = await startOAuthGateway('all-in-one', { basePath: '/gw' });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it('finds the metadata at the origin root (RFC 8414 / RFC 9728 path insertion) and completes the flow', async () => {
    const origin = new URL(gw.baseURL).origin;
    const asked: { url: string; status: number }[] = [];
    const recording: FetchLike = async (url, init) => {
      const res = await fetch(url, init);
      asked.push({ url: String(url), status: res.status });
      return res;
    };
    gw.idp.loginAs('alice');
    const provider = new TestOAuthProvider({ redirectUrl: CLIENT_REDIRECT });
    const client = await connectWithOAuth(gw, provider, { fetch: recording });
    // The SDK's first choice for issuer {origin}/gw, answered at once: no OIDC fallback.
    const discovery = asked.filter((a) => /oauth-authorization-server|openid-configuration/.test(a.url));
    expect(discovery).toEqual([{ url: `${origin}/.well-known/oauth-authorization-server/gw`, status: 200 }]);
    expect(decodeJwt(provider.tokens()?.access_token ?? '')).toMatchObject({ iss: gw.baseURL, aud: [`${gw.baseURL}/everything`] });
    expect(await echo(client, 'under a base path')).toContain('under a base path');
    await client.close();

    const metadata = await fetch(`${origin}/.well-known/oauth-protected-resource/gw/everything/mcp`);
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({ resource: `${gw.baseURL}/everything`, authorization_servers: [gw.baseURL] });
  });
});
