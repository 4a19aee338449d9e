import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema, ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  freePort,
  obtainTokens,
  ScriptedBrowser,
  startGatehouse,
  startOAuthTopology,
  startStandInIdp,
  type OAuthTopology,
  type StandInIdp,
  type TopologyKind,
} from '#testing';
import { startFixtureUpstream, upstreamAdmin, upstreamStats, type Upstream } from './fixtures/remote-upstreams.js';
import { EVERYTHING } from './support/gateway-config.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';

const USERS = {
  alice: { sub: 'alice', email: 'alice@example.com', email_verified: true, hd: 'example.com' },
  bob: { sub: 'bob', email: 'bob@example.com', email_verified: true, hd: 'example.com' },
};
const TRACKER_CLIENT = { id: 'gatehouse-at-tracker', secret: 'tracker-client-secret-0123456789' };
/** The encryption key after rotation; before it, `previousEncryptionKeys` names a key nothing was sealed with. */
const NEW_KEY = 'rotated-encryption-key-012345678';
const UNUSED_KEY = 'unused-previous-key-0123456789ab';
/** Never contacted: the scripted browser stops where a page would go next. */
const NOWHERE = 'http://127.0.0.1:9/nowhere';

interface Stand {
  gw: OAuthTopology;
  /** The service's authorization server: a second oidc-provider. */
  tracker: StandInIdp;
  upstream: Upstream;
}

/**
 * Gatehouse with three servers that need the person's own credential: `notes` (stdio, a manual
 * key in its env), `tracker` (remote, OAuth with configured endpoints) and `discovered` (the same
 * remote server, OAuth found from its 401 and registered dynamically).
 */
async function start(kind: TopologyKind): Promise<Stand> {
  const port = await freePort();
  const tracker = await startStandInIdp({
    users: { 'alice-at-tracker': { sub: 'alice-at-tracker', email: 'alice@tracker.test', email_verified: true } },
    clients: [
      {
        client_id: TRACKER_CLIENT.id,
        client_secret: TRACKER_CLIENT.secret,
        redirect_uris: [`http://127.0.0.1:${port}/oauth/callback/tracker`],
        grant_types: ['authorization_code', 'refresh_token'],
      },
    ],
    // Tokens that expire within the minute are refreshed whenever they are handed out.
    upstream: {
      refreshTokens: true,
      rotateRefreshTokens: true,
      accessTokenTtlSeconds: 30,
      revocation: true,
      registration: true,
      resourceScope: 'mcp',
    },
  });
  const upstream = await startFixtureUpstream(['--protected-by', tracker.issuer]);
  const remote = (extra: Record<string, unknown>) => ({
    transportType: 'streamable-http',
    url: `${upstream.origin}/mcp`,
    headers: { Authorization: { $userToken: '{{token}}' } },
    requiresUserToken: true,
    ...extra,
  });
  const mcpServers = {
    notes: {
      transportType: 'stdio',
      command: process.execPath,
      args: [EVERYTHING, 'stdio'],
      env: { NOTES_KEY: { $userToken: 'key={{token}}' } },
      requiresUserToken: true,
      userAuthentication: { type: 'manual', displayName: 'Notes', validation: '^notes_[a-z0-9]{8,}$' },
    },
    tracker: remote({
      userAuthentication: {
        type: 'oauth',
        displayName: 'Tracker',
        clientId: TRACKER_CLIENT.id,
        clientSecret: { $env: 'TRACKER_CLIENT_SECRET' },
        authorizationUrl: tracker.authorizationUrl,
        tokenUrl: tracker.tokenUrl,
        scopes: ['mcp'],
        tokenFormat: 'Bearer {{token}}',
      },
    }),
    discovered: remote({ userAuthentication: { type: 'oauth', displayName: 'Discovered', tokenFormat: 'Bearer {{token}}' } }),
  };
  try {
    const gw = await startOAuthTopology(kind, {
      users: USERS,
      mcpServers,
      port,
      auth: { previousEncryptionKeys: [{ $env: 'GATEHOUSE_OLD_KEY' }] },
      env: { TRACKER_CLIENT_SECRET: TRACKER_CLIENT.secret, GATEHOUSE_OLD_KEY: UNUSED_KEY },
    });
    return { gw, tracker, upstream };
  } catch (err) {
    await Promise.all([tracker.close(), upstream.stop()]);
    throw err;
  }
}

/** A person: their browser (holding Gatehouse's session cookie after the login) and an access token for every server. */
async function person(gw: OAuthTopology, who: keyof typeof USERS): Promise<{ browser: ScriptedBrowser; token: string }> {
  const browser = new ScriptedBrowser();
  gw.idp.loginAs(who);
  const resources = ['notes', 'tracker', 'discovered'].map((s) => `${gw.baseURL}/${s}`);
  const { accessToken } = await obtainTokens(gw.baseURL, resources, browser);
  return { browser, token: accessToken };
}

/** Sets a manual token on /my/tokens as the person's browser would; the page it lands on. */
async function setManualToken(gw: OAuthTopology, browser: ScriptedBrowser, server: string, token: string): Promise<string> {
  const page = await browser.open(`${gw.baseURL}/my/tokens`, NOWHERE);
  if (page.kind !== 'page' || page.status !== 200) throw new Error('no token page');
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1];
  if (!csrf) throw new Error('no CSRF token on the page');
  const answer = await browser.submit(
    `${gw.baseURL}/my/tokens/set`,
    [
      ['csrf', csrf],
      ['server', server],
      ['token', token],
    ],
    NOWHERE,
  );
  return answer.kind === 'page' ? `${answer.status} ${answer.html}` : answer.url.href;
}

/** Connects an OAuth service from the person's browser: Gatehouse → the service's login → back. */
async function connect(gw: OAuthTopology, browser: ScriptedBrowser, service: string): Promise<string> {
  const end = await browser.open(`${gw.baseURL}/oauth/connect?service=${service}`, NOWHERE);
  return end.kind === 'page' ? `${end.status} ${end.url.pathname} ${end.html}` : end.url.href;
}

/** A client that declared URL elicitation (MCP 2025-11-25). */
async function connectWithElicitation(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'e2e-elicitation', version: '1.0.0' }, { capabilities: { elicitation: { url: {} } } });
  client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'decline' }));
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: bearer(token) } } }));
  return client;
}

const headersSeen = async (client: Client) =>
  JSON.parse(textOf(await client.callTool({ name: 'report-headers', arguments: {} }))) as Record<string, string>;

describe.each<TopologyKind>(['all-in-one', 'distributed'])("a person's own service credentials (%s)", (kind) => {
  let stand: Stand;
  let alice: { browser: ScriptedBrowser; token: string };
  let bob: { browser: ScriptedBrowser; token: string };
  /** The last access token the tracker saw, for the check of the database's bytes. */
  let trackerToken = '';
  const url = (server: string) => `${stand.gw.baseURL}/${server}/mcp`;

  beforeAll(async () => {
    stand = await start(kind);
    alice = await person(stand.gw, 'alice');
    bob = await person(stand.gw, 'bob');
  }, 90_000);

  afterAll(async () => {
    await stand?.gw.stop();
    await Promise.all([stand?.tracker.close(), stand?.upstream.stop()]);
  });

  it('tells a client that declared URL elicitation where to connect (-32042), and nothing reaches the backend', async () => {
    const before = await upstreamStats(stand.upstream);
    const client = await connectWithElicitation(url('tracker'), alice.token);
    const refused = await client.callTool({ name: 'report-headers', arguments: {} }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(McpError);
    const error = refused as McpError;
    expect(error.code).toBe(ErrorCode.UrlElicitationRequired);
    const elicitations = (error.data as { elicitations: { mode: string; url: string; message: string }[] }).elicitations;
    expect(elicitations).toEqual([expect.objectContaining({ mode: 'url', url: `${stand.gw.baseURL}/oauth/connect?service=tracker` })]);
    expect(elicitations[0]?.message).toContain('Tracker');
    expect((await upstreamStats(stand.upstream)).initialized).toBe(before.initialized);
    await client.close();
  });

  it('gives a client without elicitation the link in the tool result, and the retry after setting the key works', async () => {
    const { client, transport } = await connectStreamable(url('notes'), bearer(alice.token));
    const first = await client.callTool({ name: 'get-env', arguments: {} });
    expect(first.isError).toBe(true);
    expect(textOf(first)).toBe(
      `notes needs your own Notes credential: add your Notes token at ${stand.gw.baseURL}/my/tokens, then try again.`,
    );
    expect(await setManualToken(stand.gw, alice.browser, 'notes', 'not-a-notes-key')).toMatch(/^400 [\s\S]*notes/i);
    const saved = await setManualToken(stand.gw, alice.browser, 'notes', 'notes_alice0123');
    expect(saved).not.toMatch(/^[45]\d\d /);
    // The same session: the gate starts the backend now, with the key in tokenFormat and the template.
    const env = textOf(await client.callTool({ name: 'get-env', arguments: {} }));
    expect(env).toContain('"NOTES_KEY": "key=notes_alice0123"');
    await transport.terminateSession();
    await client.close();
  });

  it("never gives one person another person's credential", async () => {
    const { client, transport } = await connectStreamable(url('notes'), bearer(bob.token));
    const result = await client.callTool({ name: 'get-env', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).not.toContain('notes_alice0123');
    await transport.terminateSession();
    await client.close();
  });

  it("connects an OAuth service at its authorization server and sends exactly the person's token, in tokenFormat", async () => {
    expect(await connect(stand.gw, alice.browser, 'tracker')).toMatch(/^200 \/oauth\/complete/);
    const { client, transport } = await connectStreamable(url('tracker'), bearer(alice.token));
    const seen = await headersSeen(client);
    expect(seen.authorization).toMatch(/^Bearer [A-Za-z0-9_-]{20,}$/);
    expect(seen.authorization).not.toContain(alice.token);
    await transport.terminateSession();
    await client.close();
  });

  it('refreshes an expiring upstream token without the person, and once on an upstream 401, retrying the call', async () => {
    const refreshes = stand.tracker.grantCount('refresh_token');
    const { client, transport } = await connectStreamable(url('tracker'), bearer(alice.token));
    const first = (await headersSeen(client)).authorization;
    // Access tokens live 30 s here: each hand-out refreshes, and the person is never asked.
    expect(stand.tracker.grantCount('refresh_token')).toBeGreaterThan(refreshes);
    const before = await upstreamStats(stand.upstream);
    await upstreamAdmin(stand.upstream, 'refuse-last-token');
    const second = (await headersSeen(client)).authorization;
    expect(second).toMatch(/^Bearer /);
    expect(second).not.toBe(first);
    trackerToken = second?.slice('Bearer '.length) ?? '';
    expect((await upstreamStats(stand.upstream)).unauthorized).toBe(before.unauthorized + 1);
    await transport.terminateSession();
    await client.close();
  });

  it("connects a service found from its server's 401 (RFC 9728) with a client registered on the spot", async () => {
    expect(await connect(stand.gw, alice.browser, 'discovered')).toMatch(/^200 \/oauth\/complete/);
    const { client, transport } = await connectStreamable(url('discovered'), bearer(alice.token));
    expect((await headersSeen(client)).authorization).toMatch(/^Bearer [A-Za-z0-9_-]{20,}$/);
    await transport.terminateSession();
    await client.close();
  });

  it('keeps every stored credential readable once encryptionKey is rotated (the old key kept in previousEncryptionKeys)', async () => {
    const { gw } = stand;
    const env = { ...gw.env, GATEHOUSE_ENCRYPTION_KEY: NEW_KEY, GATEHOUSE_OLD_KEY: gw.env.GATEHOUSE_ENCRYPTION_KEY };
    // Every process that seals or opens: serve, or auth and the runners (edges never see a credential).
    const keyed = gw.gateway.all.filter((p) => ['serve', 'auth', 'runner'].includes(p.args[0] ?? '') && p.child.exitCode === null);
    await Promise.all(keyed.map((p) => p.stop()));
    const restarted = keyed.map((p) => startGatehouse(p.args, env));
    gw.gateway.all.push(...restarted);
    await Promise.all(restarted.map((p) => p.waitFor(p.args[0] === 'runner' ? /Gatehouse runner \S+ is ready/ : /auth ready/, 30_000)));
    for (let tries = 0; (await fetch(`${gw.baseURL}/ready`).catch(() => undefined))?.status !== 200; tries++) {
      if (tries > 300) throw new Error('the gateway is not ready after the restart');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const notes = await connectStreamable(url('notes'), bearer(alice.token));
    expect(textOf(await notes.client.callTool({ name: 'get-env', arguments: {} }))).toContain('"NOTES_KEY": "key=notes_alice0123"');
    await notes.transport.terminateSession();
    await notes.client.close();
    const tracker = await connectStreamable(url('tracker'), bearer(alice.token));
    expect((await headersSeen(tracker.client)).authorization).toMatch(/^Bearer [A-Za-z0-9_-]{20,}$/);
    await tracker.transport.terminateSession();
    await tracker.client.close();
    // The person's browser sign-in, sealed with the old key, still opens their page.
    const page = await alice.browser.open(`${gw.baseURL}/my/tokens`, NOWHERE);
    expect(page.kind === 'page' && page.status === 200 && page.html.includes('alice@example.com')).toBe(true);
  });

  it('keeps no credential in clear text in the database', () => {
    if (kind !== 'all-in-one') return; // PostgreSQL's files are not ours to read; the SQLite file is.
    const dataDir = join(stand.gw.dir, 'data');
    const bytes = readdirSync(dataDir, { recursive: true, encoding: 'utf8' })
      .filter((name) => /\.(db|sqlite)(-wal)?$/.test(name))
      .map((name) => readFileSync(join(dataDir, name)).toString('latin1'))
      .join('');
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes).not.toContain('notes_alice0123');
    expect(bytes).not.toContain(TRACKER_CLIENT.secret);
    expect(trackerToken.length).toBeGreaterThan(20);
    expect(bytes).not.toContain(trackerToken);
  });
});
