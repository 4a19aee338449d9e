import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { LocalBus } from '#bus';
import { parseConfig, type GatehouseConfig } from '#config';
import type { Principal } from '#contracts';
import { envelopeOf, sha256Base64Url } from '#crypto';
import { noMetrics } from '#observability';
import { eventually } from '#testing';
import { startFixtureUpstream, upstreamAdmin, upstreamStats, type Upstream } from '../../../../../test/fixtures/remote-upstreams.js';
import { BusCredentialLookup } from '../../credentials/credential-lookup.js';
import { NodeProcessSpawner } from '../../process/child-process.js';
import { AggregateHub } from '../aggregate/aggregate-hub.js';
import { createBackend } from '../backend.factory.js';
import { capturedLogger } from '../remote/scripted-upstream.fixture.js';
import { BackendTransport, CredentialResponder } from './credential-gate.fixture.js';
import { URL_ELICITATION_REQUIRED } from './missing-credential.js';

const EVERYTHING = join(process.cwd(), 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const KEY = 'k'.repeat(32);
const alice: Principal = { sub: 'alice', email: 'alice@example.com', method: 'oauth' };
const bob: Principal = { sub: 'bob', email: 'bob@example.com', method: 'oauth' };
const spawner = new NodeProcessSpawner({ timings: { stdinGraceMs: 100, termGraceMs: 500 }, supervise: false });

/** From then on the fixture upstream takes only this Authorization value (401 otherwise). */
async function upstreamTakes(upstream: Upstream, authorization: string): Promise<void> {
  const res = await fetch(`${upstream.origin}/admin/require?value=${encodeURIComponent(authorization)}`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`admin require: ${res.status}`);
}

function configWith(origin: string): GatehouseConfig {
  const result = parseConfig(
    {
      version: 'v1',
      proxy: {
        baseURL: 'https://gatehouse.test',
        auth: {
          kind: 'oauth',
          idp: { provider: 'google', clientId: 'c', clientSecret: 'idp-secret' },
          allowedDomains: ['example.com'],
          encryptionKey: KEY,
        },
      },
      mcpServers: {
        notes: {
          transportType: 'stdio',
          command: process.execPath,
          args: [EVERYTHING, 'stdio'],
          env: { NOTES_API_KEY: { $userToken: '{{token}}' } },
          requiresUserToken: true,
          userAuthentication: { type: 'manual', displayName: 'Notes', instructions: 'Paste your key', tokenFormat: 'notes_{{token}}' },
          serviceAuths: [
            { type: 'bearer', tokens: ['ci-token-0123456789'], userToken: 'ci-own-key' },
            { type: 'bearer', tokens: ['other-token-0123456789'] },
          ],
        },
        remote: {
          transportType: 'streamable-http',
          url: `${origin}/mcp`,
          headers: { Authorization: { $userToken: 'Bearer {{token}}' } },
          requiresUserToken: true,
          userAuthentication: { type: 'oauth', displayName: 'Remote' },
        },
        ops: {
          transportType: 'inline',
          requiresUserToken: true,
          userAuthentication: { type: 'manual', displayName: 'Ops', instructions: 'Paste your key' },
          inline: {
            tools: [
              {
                name: 'say',
                inputSchema: { type: 'object', properties: { message: { type: 'string' } } },
                command: process.execPath,
                args: [
                  '-e',
                  'console.log(process.argv.slice(1).join(" ") + " " + process.env.KEY)',
                  '{{message}}',
                  { $userToken: '--key={{token}}' },
                ],
                env: { KEY: { $userToken: '{{token}}' } },
              },
            ],
          },
        },
        legacy: {
          transportType: 'sse',
          url: `${origin}/sse`,
          headers: { Authorization: { $userToken: 'Bearer {{token}}' } },
          requiresUserToken: true,
          userAuthentication: { type: 'oauth', displayName: 'Legacy' },
        },
      },
    },
    {},
  );
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config;
}

let bus: LocalBus;
let responder: CredentialResponder;
let upstream: Upstream;
let config: GatehouseConfig;
const { log, lines } = capturedLogger();
const clients: Client[] = [];

beforeAll(async () => {
  upstream = await startFixtureUpstream(['--require-header', 'Authorization:none yet']);
  config = configWith(upstream.origin);
});
afterAll(async () => {
  await upstream.stop();
});
beforeEach(() => {
  bus = new LocalBus();
  responder = new CredentialResponder(bus, envelopeOf(KEY));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  responder.stop();
  await bus.close();
});

/** The real SDK client on a session's backend, as the runner would create it. */
async function open(server: string, principal: Principal, options: { urlElicitation?: boolean } = {}): Promise<Client> {
  const target = config.servers[server];
  if (!target) throw new Error(`no server ${server}`);
  const backend = createBackend(target, { sessionId: randomUUID(), sub: principal.sub, server }, principal, {
    spawner,
    childBaseEnv: { PATH: process.env.PATH ?? '' },
    maxMessageBytes: 1024 * 1024,
    log,
    metrics: noMetrics,
    servers: config.servers,
    aggregates: new AggregateHub(bus, 'runner-1', log),
    credentials: new BusCredentialLookup(bus, envelopeOf(KEY), 1000),
  });
  const capabilities = options.urlElicitation ? { elicitation: { url: {} } } : {};
  const client = new Client({ name: 'spec', version: '1' }, { capabilities });
  clients.push(client);
  await client.connect(new BackendTransport(backend));
  return client;
}

const textOf = (result: unknown) => ((result as CallToolResult).content[0] as { text: string }).text;
const envOf = async (client: Client) =>
  JSON.parse(textOf(await client.callTool({ name: 'get-env', arguments: {} }))) as Record<string, string>;

describe('CredentialGate', () => {
  it("gives each person's stdio backend that person's token, and logs none of them", async () => {
    responder.set('alice', 'notes', { token: 'notes_alice-key' });
    responder.set('bob', 'notes', { token: 'notes_bob-key' });
    const [aliceEnv, bobEnv] = await Promise.all([open('notes', alice).then(envOf), open('notes', bob).then(envOf)]);
    expect(aliceEnv.NOTES_API_KEY).toBe('notes_alice-key');
    expect(bobEnv.NOTES_API_KEY).toBe('notes_bob-key');
    expect(responder.requests).toEqual(
      expect.arrayContaining([
        { sub: 'alice', server: 'notes' },
        { sub: 'bob', server: 'notes' },
      ]),
    );
    expect(JSON.stringify(lines)).not.toMatch(/alice-key|bob-key/);
  });

  it('answers a client that declared URL elicitation with -32042 and the link; once connected, the retry just works', async () => {
    const client = await open('notes', alice, { urlElicitation: true });
    expect(client.getServerVersion()?.name).toBe('notes');
    expect(client.getInstructions()).toContain('https://gatehouse.test/my/tokens?server=notes');
    const error = await client.listTools().catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: URL_ELICITATION_REQUIRED,
      data: { elicitations: [{ mode: 'url', url: 'https://gatehouse.test/my/tokens?server=notes', message: 'Connect notes first.' }] },
    });
    responder.set('alice', 'notes', { token: 'notes_connected' });
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('get-env');
    expect((await envOf(client)).NOTES_API_KEY).toBe('notes_connected');
  });

  it("starts the real backend with the client's initialize once connected, then tells the client its tools changed", async () => {
    await upstreamTakes(upstream, 'Bearer later');
    const client = await open('remote', alice);
    let listChanged = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
    const before = (await upstreamStats(upstream)).initialized;
    const refused = (await client.callTool({ name: 'report-headers', arguments: {} })) as CallToolResult;
    expect(refused.isError).toBe(true);
    expect((await upstreamStats(upstream)).initialized).toBe(before); // nothing went upstream without the credential
    responder.set('alice', 'remote', { token: 'later' });
    const headers = JSON.parse(textOf(await client.callTool({ name: 'report-headers', arguments: {} }))) as Record<string, string>;
    expect(headers.authorization).toBe('Bearer later');
    await eventually(() => listChanged > 0, 'tools/list_changed', 2000);
    expect(listChanged).toBe(1);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('report-headers');
  });

  it('gives a client without URL elicitation a tool error carrying the link, and errors carrying it elsewhere', async () => {
    const client = await open('notes', alice);
    const result = (await client.callTool({ name: 'get-env', arguments: {} })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('Connect notes first. Connect it at https://gatehouse.test/my/tokens?server=notes, then try again.');
    await expect(client.listTools()).rejects.toThrow('https://gatehouse.test/my/tokens?server=notes');
  });

  it('does not start a session when auth does not answer', async () => {
    responder.stop();
    await expect(open('notes', alice)).rejects.toThrow('could not look up your credential for notes; try again');
  });

  it("gives a service caller its serviceAuth's userToken, formatted, and tells one without a userToken why", async () => {
    const ci: Principal = { sub: 'bearer:notes/0.0', method: 'bearer', serviceAuth: { server: 'notes', index: 0 } };
    expect((await envOf(await open('notes', ci))).NOTES_API_KEY).toBe('notes_ci-own-key');
    const other: Principal = { sub: 'bearer:notes/1.0', method: 'bearer', serviceAuth: { server: 'notes', index: 1 } };
    const result = (await (await open('notes', other)).callTool({ name: 'get-env', arguments: {} })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('serviceAuths[1] has no userToken');
    expect(responder.requests).toEqual([]);
  });

  it("sends the person's token upstream; on a 401 asks auth once for a new one, renews the upstream session and retries", async () => {
    await upstreamTakes(upstream, 'Bearer first');
    responder.set('alice', 'remote', { token: 'first' });
    const client = await open('remote', alice);
    const report = async () => {
      const headers = JSON.parse(textOf(await client.callTool({ name: 'report-headers', arguments: {} }))) as Record<string, string>;
      return headers.authorization;
    };
    expect(await report()).toBe('Bearer first');
    const sessionsBefore = (await upstreamStats(upstream)).initialized;
    await upstreamTakes(upstream, 'Bearer second');
    responder.refreshTo('alice', 'remote', 'second');
    expect(await report()).toBe('Bearer second');
    expect(responder.requests.at(-1)).toEqual({ sub: 'alice', server: 'remote', rejected: sha256Base64Url('first') });
    expect((await upstreamStats(upstream)).initialized).toBe(sessionsBefore + 1);
    expect(JSON.stringify(lines)).not.toMatch(/Bearer (first|second)/);
  });

  it("runs an inline tool with the person's token as it is, never templated with the call's arguments", async () => {
    responder.set('alice', 'ops', { token: 'tok-{{message}}' });
    const client = await open('ops', alice);
    const result = await client.callTool({ name: 'say', arguments: { message: 'hello' } });
    expect(textOf(result).trim()).toBe('hello --key=tok-{{message}} tok-{{message}}');
  });

  it('renews a credential an SSE upstream refuses when its stream opens', async () => {
    await upstreamTakes(upstream, 'Bearer fresh');
    responder.set('alice', 'legacy', { token: 'expired' });
    responder.refreshTo('alice', 'legacy', 'fresh');
    const client = await open('legacy', alice);
    const headers = JSON.parse(textOf(await client.callTool({ name: 'report-headers', arguments: {} }))) as Record<string, string>;
    expect(headers.authorization).toBe('Bearer fresh');
    expect(responder.requests.at(-1)).toEqual({ sub: 'alice', server: 'legacy', rejected: sha256Base64Url('expired') });
  });

  it('asks again before an expiring token expires and sends the new one with later requests, no 401 needed', async () => {
    await upstreamTakes(upstream, 'Bearer expiring');
    // Already within the renewal window: asked again after the shortest delay (5 s).
    responder.set('alice', 'remote', { token: 'expiring', expiresAt: Date.now() });
    const client = await open('remote', alice);
    const report = async () =>
      (JSON.parse(textOf(await client.callTool({ name: 'report-headers', arguments: {} }))) as Record<string, string>).authorization;
    expect(await report()).toBe('Bearer expiring');
    responder.set('alice', 'remote', { token: 'renewed', expiresAt: Date.now() + 3_600_000 });
    await eventually(() => responder.requests.length === 2, 'the renewal request', 8000);
    await upstreamTakes(upstream, 'Bearer renewed');
    await upstreamAdmin(upstream, 'expire'); // the new headers open the next upstream session too
    expect(await report()).toBe('Bearer renewed');
    expect(responder.requests).toEqual([
      { sub: 'alice', server: 'remote' },
      { sub: 'alice', server: 'remote' },
    ]);
  }, 15_000);

  it('says the service refused the credential, with the connect link, when auth has no other', async () => {
    await upstreamTakes(upstream, 'Bearer stale');
    responder.set('alice', 'remote', { token: 'stale' });
    const client = await open('remote', alice);
    await upstreamTakes(upstream, 'Bearer something else');
    responder.set('alice', 'remote', undefined);
    const error = await client.callTool({ name: 'report-headers', arguments: {} }).catch((err: unknown) => err);
    expect(String(error)).toContain('remote refused your credential; connect it again at https://gatehouse.test/my/tokens?server=remote');
  });
});
