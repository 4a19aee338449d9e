import { rmSync } from 'node:fs';
import { startTopology, type Topology } from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';
import { INIT, JSON_HEADERS, rawDelete, rawInitialize } from './support/raw-mcp.js';
import { messagesOf, readEvents, type SseEvent } from './support/sse-events.js';
import { SwitchingProxy } from './support/switching-proxy.js';

const LONG_CALL = (steps: number) => ({
  jsonrpc: '2.0',
  id: 5,
  method: 'tools/call',
  params: { name: 'trigger-long-running-operation', arguments: { duration: steps / 2, steps }, _meta: { progressToken: 'p' } },
});

function progressOf(messages: unknown[]): number[] {
  return messages.flatMap((m) => {
    const params = (m as { method?: string; params?: { progress?: number } }).params;
    return (m as { method?: string }).method === 'notifications/progress' && typeof params?.progress === 'number' ? [params.progress] : [];
  });
}

describe('resumable streams (all-in-one, raw HTTP)', () => {
  let topology: Topology;
  let configDir: string;
  let url: string;
  const alice = bearer(TOKENS.alice);

  beforeAll(async () => {
    const config = writeGatewayConfig({ maxPerUser: 4, runnerGroup: `resume${Date.now().toString(36)}` });
    configDir = config.dir;
    topology = await startTopology('all-in-one', config.path, { env: GATEWAY_ENV });
    url = `${topology.url}/everything/mcp`;
  }, 60000);

  afterAll(async () => {
    await topology?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  const headers = (sessionId: string, version = '2025-11-25') => ({
    ...JSON_HEADERS,
    accept: 'text/event-stream',
    authorization: alice,
    'mcp-session-id': sessionId,
    'mcp-protocol-version': version,
  });

  it('primes a POST stream, and replays what a dropped stream missed to a GET with Last-Event-ID', async () => {
    const sessionId = await rawInitialize(url, alice);
    const aborted = new AbortController();
    const post = await fetch(url, {
      method: 'POST',
      headers: headers(sessionId),
      body: JSON.stringify(LONG_CALL(6)),
      signal: aborted.signal,
    });
    const before = await readEvents(post.body, (events) => progressOf(messagesOf(events)).length >= 2);
    aborted.abort();
    const [priming] = before;
    expect(priming).toEqual({ id: expect.stringMatching(/^[\w-]+\.0$/), retry: '1000', data: '' });
    const last = before.at(-1) as SseEvent;
    const key = priming?.id?.split('.')[0];
    expect(before.slice(1).map((e) => e.id)).toEqual(before.slice(1).map((_, i) => `${key}.${i + 1}`));

    const resumed = await fetch(url, { headers: { ...headers(sessionId), 'last-event-id': last.id ?? '' } });
    expect(resumed.status).toBe(200);
    const after = await readEvents(resumed.body);
    // Ids continue where the client stopped, nothing is repeated or lost, and the stream ends with the answer.
    expect(after.map((e) => e.id)).toEqual(after.map((_, i) => `${key}.${before.length + i}`));
    const messages = [...messagesOf(before), ...messagesOf(after)];
    expect(progressOf(messages)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(messages.at(-1)).toMatchObject({ id: 5, result: { content: [{ type: 'text' }] } });
    expect(await rawDelete(url, alice, sessionId)).toBe(200);
  });

  it('sends no priming event to a client of an older protocol version', async () => {
    const sessionId = await rawInitialize(url, alice);
    const post = await fetch(url, { method: 'POST', headers: headers(sessionId, '2025-06-18'), body: JSON.stringify(LONG_CALL(2)) });
    const events = await readEvents(post.body);
    expect(events[0]?.data).not.toBe('');
    expect(events.every((e) => e.id !== undefined && e.data !== '')).toBe(true);
    expect(await rawDelete(url, alice, sessionId)).toBe(200);
  });

  it('refuses a Last-Event-ID that names no event of the gateway, and ends at once a stream it knows nothing of', async () => {
    const sessionId = await rawInitialize(url, alice);
    const bad = await fetch(url, { headers: { ...headers(sessionId), 'last-event-id': 'not an id' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { message: expect.stringContaining('Last-Event-ID') } });
    const unknown = await fetch(url, { headers: { ...headers(sessionId), 'last-event-id': 'AAAAAAAAAAAAAAAA.3' } });
    expect(unknown.status).toBe(200);
    expect(await readEvents(unknown.body)).toEqual([]);
    expect(await rawDelete(url, alice, sessionId)).toBe(200);
  });

  it('does not open a session for an initialize the protocol schema refuses: 400, -32602', async () => {
    const body = JSON.stringify({ ...INIT, params: { protocolVersion: 7 } });
    const res = await fetch(url, { method: 'POST', headers: { ...JSON_HEADERS, authorization: alice }, body });
    expect(res.status).toBe(400);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(await res.json()).toMatchObject({ id: 1, error: { code: -32602, message: expect.stringContaining('initialize') } });
  });
});

describe('resumable streams (distributed: an edge killed mid-call)', () => {
  let topology: Topology;
  let configDir: string;
  let proxy: SwitchingProxy;

  beforeAll(async () => {
    const config = writeGatewayConfig({ maxPerUser: 4, runnerGroup: `resumed${Date.now().toString(36)}` });
    configDir = config.dir;
    topology = await startTopology('distributed', config.path, { env: GATEWAY_ENV, runnerCount: 1, edgeCount: 2 });
    proxy = await SwitchingProxy.start(topology.urls[0] ?? '');
  }, 60000);

  afterAll(async () => {
    await proxy?.stop();
    await topology?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('carries the real SDK client through: it resumes the call on the other edge with nothing lost', async () => {
    const { client, transport } = await connectStreamable(`${proxy.url}/everything/mcp`, bearer(TOKENS.alice));
    const progress: number[] = [];
    let killed = false;
    const [first, second] = topology.edges;
    const call = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 4, steps: 8 } }, undefined, {
      onprogress: (p) => {
        progress.push(p.progress);
        if (killed) return;
        killed = true;
        proxy.switchTo(topology.urls[1] ?? '');
        first?.child.kill('SIGKILL');
      },
    });
    const result = await call;
    expect(killed).toBe(true);
    expect(first?.child.exitCode !== null || first?.child.signalCode !== null).toBe(true);
    expect(textOf(result)).toContain('Long running operation completed');
    // In order, none missing; the SDK client may drop the very last one when it shares a read with the response.
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8].slice(0, progress.length));
    expect(progress.length).toBeGreaterThanOrEqual(7);
    expect(second?.child.exitCode).toBeNull();
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'on the second edge' } }))).toContain('on the second edge');
    await transport.terminateSession();
    await client.close();
  });
});
