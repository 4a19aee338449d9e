import { rmSync } from 'node:fs';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { SESSION_ROUTES_BUCKET } from '#contracts';
import {
  descendantPids,
  eventually,
  isAlive,
  startGatehouse,
  startTopology,
  type GatewayProcess,
  type Topology,
  startPrivateNatsServer,
  type PrivateNatsServer,
} from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';
import { JSON_HEADERS, rawPost } from './support/raw-mcp.js';

/** This suite's own nats-server, restarted mid-session: never the shared one on 4222. */
const NATS_PORT = 4315;
const LISTENING = /Gatehouse is listening on [^\s:]+:(\d+)/;

describe('a nats-server restart (same port and store) under live sessions, distributed', () => {
  let nats: PrivateNatsServer;
  let topology: Topology;
  let configPath: string;
  let configDir: string;
  let url: string;
  let runner: GatewayProcess;
  const env = () => ({ ...GATEWAY_ENV, NATS_URL: nats.url });

  beforeAll(async () => {
    nats = await startPrivateNatsServer(NATS_PORT);
    const config = writeGatewayConfig({ maxPerUser: 4, runnerGroup: `restart${Date.now().toString(36)}` });
    ({ path: configPath, dir: configDir } = config);
    topology = await startTopology('distributed', configPath, { env: env(), runnerCount: 1 });
    url = `${topology.url}/everything/mcp`;
    const [only] = topology.runners;
    if (!only) throw new Error('no runner');
    runner = only;
  }, 60_000);

  afterAll(async () => {
    try {
      await topology?.stop();
    } finally {
      await nats?.close();
      rmSync(configDir, { recursive: true, force: true });
    }
  });

  /** The session's route as JetStream KV holds it, read over a connection of the test's own. */
  async function storedRoute(sessionId: string): Promise<string | undefined> {
    const nc = await connect({ servers: nats.url });
    try {
      const entry = await (await new Kvm(nc).open(SESSION_ROUTES_BUCKET)).get(sessionId);
      return entry?.operation === 'PUT' ? entry.string() : undefined;
    } finally {
      await nc.close();
    }
  }

  it('keeps a quiet session: its route survives in the store, the same client calls on, and an edge started afterwards routes it', async () => {
    const { client, transport } = await connectStreamable(url, bearer(TOKENS.alice));
    const sessionId = transport.sessionId ?? '';
    const checked = await livenessCheck(nats.url, sessionId);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'before' } }))).toContain('before');
    // The edge checks on the runner a second after a call, then every 15 s: restart in the quiet gap.
    await checked.seen;
    const route = await storedRoute(sessionId);
    expect(route).toContain('"server":"everything"');
    const backends = descendantPids(runner.pid);

    await nats.restart();
    await readyAgain(topology.url);

    expect(await storedRoute(sessionId)).toBe(route);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'after' } }))).toContain('after');
    expect(descendantPids(runner.pid)).toEqual(backends);
    // A new edge has no cache: it finds the session only through the route the store kept.
    const edge = startGatehouse(['edge', '--config', configPath, '--addr', '127.0.0.1:0'], env());
    try {
      const [, port] = await edge.waitFor(LISTENING);
      const call = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { message: 'via a new edge' } } };
      const headers = { ...JSON_HEADERS, accept: 'application/json', authorization: bearer(TOKENS.alice), 'mcp-session-id': sessionId };
      const res = await rawPost(`http://127.0.0.1:${port}/everything/mcp`, JSON.stringify(call), headers);
      expect({ status: res.status, text: res.text }).toEqual({ status: 200, text: expect.stringContaining('via a new edge') });
    } finally {
      await edge.stop();
    }
    await transport.terminateSession();
    await client.close();
    for (const p of topology.all) expect(p.output()).not.toMatch(/"level":(50|60)/);
  }, 60_000);

  it('fails a call made while NATS is down with a clear error at once; after the restart the session and a new one work', async () => {
    const { client, transport } = await connectStreamable(url, bearer(TOKENS.alice));
    await client.callTool({ name: 'echo', arguments: { message: 'before' } });
    const sessionId = transport.sessionId ?? '';
    const backends = descendantPids(runner.pid);

    await nats.stopServer();
    const startedAt = Date.now();
    const during = await client.callTool({ name: 'echo', arguments: { message: 'during' } }).then(
      () => 'answered',
      (err: unknown) => String(err),
    );
    expect(during).toMatch(/Session ended: the runner holding this session is (gone|not answering)/);
    expect(Date.now() - startedAt).toBeLessThan(3000);
    await nats.start();
    await readyAgain(topology.url);

    // An outage is not the session's end: its runner kept it, and the route is still the runner's.
    const headers = {
      ...JSON_HEADERS,
      authorization: bearer(TOKENS.alice),
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    };
    // /ready says the bus is back; JetStream (the route store) may take a moment longer to recover
    // its streams, and a request in that moment is told to try again: the session must then answer.
    let again = await rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }), headers);
    for (let tries = 0; tries < 50 && again.status === 200 && !hasResult(again.json); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      again = await rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }), headers);
    }
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ id: 3, result: { tools: expect.any(Array) } });
    await transport.terminateSession();
    await client.close();
    await eventually(() => backends.every((pid) => !isAlive(pid)), `backend ${backends.join(', ')} still runs after DELETE`, 5000);

    const fresh = await connectStreamable(url, bearer(TOKENS.alice));
    expect(textOf(await fresh.client.callTool({ name: 'echo', arguments: { message: 'fresh' } }))).toContain('fresh');
    await fresh.transport.terminateSession();
    await fresh.client.close();
    for (const p of topology.all) expect(p.output()).not.toMatch(/"level":(50|60)/);
  }, 60_000);
});

/**
 * Resolves when the edge next checks on the session's runner (a touch without attach or detach),
 * seen on a connection of the test's own.
 */
async function livenessCheck(natsUrl: string, sessionId: string): Promise<{ seen: Promise<void> }> {
  const nc = await connect({ servers: natsUrl });
  const sub = nc.subscribe(`gh.runner.*.session.${sessionId}.touch`);
  await nc.flush();
  const seen = (async () => {
    try {
      for await (const msg of sub) if (msg.string() === '{}') return;
    } finally {
      await nc.close();
    }
  })();
  return { seen };
}

/** Polls /ready until the edge and a runner answer over the restarted server. */
async function readyAgain(base: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${base}/ready`).catch(() => undefined);
    await res?.body?.cancel();
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${base}/ready did not answer 200 within ${timeoutMs} ms of the restart`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function hasResult(json: unknown): boolean {
  return typeof json === 'object' && json !== null && 'result' in json;
}
