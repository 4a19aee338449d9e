import { rmSync } from 'node:fs';
import { childPids, startTopology, type Topology, type TopologyKind } from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import { bearer } from './support/mcp-clients.js';
import { INIT, JSON_HEADERS, rawDelete, rawInitialize, rawPost, rawRequest } from './support/raw-mcp.js';
import { readEvents } from './support/sse-events.js';

function backendCount(topology: Topology): number {
  return topology.runners.flatMap((r) => childPids(r.pid)).length;
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('bad input gets a clear 4xx, never a crash or a 500 (%s)', (kind) => {
  let topology: Topology;
  let configDir: string;
  let url: string;
  const auth = { ...JSON_HEADERS, authorization: bearer(TOKENS.alice) };
  const list = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' });

  beforeAll(async () => {
    const config = writeGatewayConfig({ maxPerUser: 4, runnerGroup: `bad${Date.now().toString(36)}${kind[0]}` });
    configDir = config.dir;
    topology = await startTopology(kind, config.path, { env: GATEWAY_ENV, runnerCount: 1 });
    url = `${topology.url}/everything/mcp`;
  }, 60000);

  afterAll(async () => {
    await topology?.stop();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('answers malformed JSON with a JSON-RPC parse error', async () => {
    const res = await rawPost(url, '{"jsonrpc": "2.0", "id": 1, "method": ', auth);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
  });

  it('answers a message that is not JSON-RPC with Invalid Request', async () => {
    const res = await rawPost(url, JSON.stringify({ hello: 'world' }), auth);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: -32600 } });
  });

  it('answers the wrong content type with 415', async () => {
    const res = await rawPost(url, JSON.stringify(INIT), { ...auth, 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    expect(res.text).toContain('application/json');
  });

  it('answers a body over the limit (4 MiB by default) with 413', async () => {
    const res = await rawPost(url, `{"pad":"${'x'.repeat(4 * 1024 * 1024)}"}`, auth);
    expect(res.status).toBe(413);
    expect(res.json).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: expect.stringContaining('4194304 bytes') },
    });
  });

  it('answers a body over the limit that declares no length (chunked) with 413, and the connection stays usable', async () => {
    const headers = { ...auth, 'transfer-encoding': 'chunked' };
    const res = await rawRequest(url, { method: 'POST', headers, body: `{"pad":"${'x'.repeat(4 * 1024 * 1024)}"}` });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text)).toMatchObject({ id: null, error: { code: -32600, message: expect.stringContaining('4194304 bytes') } });
    expect((await rawPost(url, list, auth)).status).toBe(400); // no session: a plain refusal, not a hang
  });

  it('refuses more than 100 header fields on an MCP route with 431', async () => {
    const fields = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-field-${i}`, String(i)]));
    // Host first: Node's server answers a request whose Host it cut off with 400 itself.
    const headers = { host: new URL(url).host, ...auth, ...fields };
    const res = await rawRequest(url, { method: 'POST', headers, body: JSON.stringify(INIT) });
    expect(res.status).toBe(431);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: -32600, message: 'Request has more than 100 header fields' } });
  });

  it('answers an unknown server with 404', async () => {
    const res = await rawPost(`${topology.url}/nope/mcp`, JSON.stringify(INIT), auth);
    expect(res.status).toBe(404);
    expect(res.text).toContain('nope');
  });

  it('answers missing or wrong credentials with 401 and a challenge', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${Buffer.from('svc:nope').toString('base64')}`]) {
      const headers: Record<string, string> = { ...JSON_HEADERS, ...(authorization && { authorization }) };
      const res = await rawPost(url, JSON.stringify(INIT), headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="gatehouse"');
    }
  });

  it('requires a session for anything but initialize, and a valid one', async () => {
    expect((await rawPost(url, list, auth)).status).toBe(400);
    expect((await rawPost(url, list, { ...auth, 'mcp-session-id': 'not-a-session' })).status).toBe(404);
    expect((await rawPost(url, list, { ...auth, 'mcp-session-id': 'AAAAAAAAAAAAAAAAAAAAAA' })).status).toBe(404);
    expect((await rawPost(url, list, { ...auth, 'mcp-session-id': 'a.b.>' })).status).toBe(404);
  });

  it('checks MCP-Protocol-Version and batches per version', async () => {
    const sessionId = await rawInitialize(url, bearer(TOKENS.alice));
    const inSession = { ...auth, 'mcp-session-id': sessionId };
    const bad = await rawPost(url, list, { ...inSession, 'mcp-protocol-version': '1999-01-01' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('1999-01-01');

    const batch = JSON.stringify([
      { jsonrpc: '2.0', id: 7, method: 'tools/list' },
      { jsonrpc: '2.0', id: 8, method: 'ping' },
    ]);
    expect((await rawPost(url, batch, { ...inSession, 'mcp-protocol-version': '2025-06-18' })).status).toBe(400);
    const answered = await rawPost(url, batch, { ...inSession, 'mcp-protocol-version': '2025-03-26', accept: 'application/json' });
    expect(answered.status).toBe(200);
    expect(answered.json).toEqual([
      expect.objectContaining({ id: 7, result: expect.objectContaining({ tools: expect.any(Array) }) }),
      expect.objectContaining({ id: 8, result: {} }),
    ]);
    const notification = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
    expect((await rawPost(url, notification, inSession)).status).toBe(202);
    expect(await rawDelete(url, bearer(TOKENS.alice), sessionId)).toBe(200);
    expect(await rawDelete(url, bearer(TOKENS.alice), sessionId)).toBe(404);
  });

  it('answers an initialize that accepts only an event stream with one, and 406 when it accepts neither', async () => {
    const res = await rawPost(url, JSON.stringify(INIT), { ...auth, accept: 'text/event-stream' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    // One event whose data is the backend's answer, its members in the order the backend wrote them.
    const event = /^event: message\ndata: (.*)\n\n$/.exec(res.text);
    expect(JSON.parse(event?.[1] ?? 'null')).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: expect.any(String) } });
    const sessionId = res.headers.get('mcp-session-id') ?? '';
    expect(await rawDelete(url, bearer(TOKENS.alice), sessionId)).toBe(200);
    expect((await rawPost(url, JSON.stringify(INIT), { ...auth, accept: 'text/html' })).status).toBe(406);
  });

  it('refuses JSON nested 10,000 levels deep with 400 before anything recurses into it', async () => {
    const deep = JSON.stringify({ ...INIT, params: { ...INIT.params, capabilities: { x: 'HOLE' } } }).replace(
      '"HOLE"',
      `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
    );
    const res = await rawPost(url, deep, auth);
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: -32600, message: expect.stringContaining('deeper than 64 levels') } });
  });

  it("answers a malformed initialize as the client's error (400, -32602) without starting a backend", async () => {
    const backends = backendCount(topology);
    for (const params of [undefined, { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: 'me' }]) {
      const res = await rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'initialize', params }), auth);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ jsonrpc: '2.0', id: 9, error: { code: -32602, message: expect.stringContaining('initialize') } });
    }
    expect(backendCount(topology)).toBe(backends);
  });

  it('refuses a request whose id is already in flight in the session, and still answers the first', async () => {
    const sessionId = await rawInitialize(url, bearer(TOKENS.alice));
    const headers = { ...auth, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    const call = (progressToken: string) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id: 42,
        method: 'tools/call',
        params: { name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 2 }, _meta: { progressToken } },
      });
    const first = await fetch(url, { method: 'POST', headers: { ...headers, accept: 'text/event-stream' }, body: call('a') });
    const [, progress] = await readEvents(first.body, (events) => events.length >= 2);
    expect(progress?.data).toContain('notifications/progress');
    // Refused at once, so answered as JSON (a 2025-11-25 tool call streams only once it has taken a while).
    const second = await rawPost(url, call('b'), headers);
    expect(second.json).toEqual({ jsonrpc: '2.0', id: 42, error: { code: -32600, message: expect.stringContaining('already in flight') } });
    const answered = await rawPost(url, JSON.stringify({ jsonrpc: '2.0', id: 43, method: 'ping' }), headers);
    expect(answered.json).toEqual({ jsonrpc: '2.0', id: 43, result: {} });
    expect(await rawDelete(url, bearer(TOKENS.alice), sessionId)).toBe(200);
  });

  it('refuses a forged Host without an Origin (DNS rebinding), but answers the probes', async () => {
    const headers = { ...auth, host: 'rebind.attacker.example' };
    const res = await rawRequest(url, { method: 'POST', headers, body: JSON.stringify(INIT) });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text)).toMatchObject({ error: { message: expect.stringContaining('Host') } });
    expect((await rawRequest(`${topology.url}/health`, { headers: { host: '10.1.2.3:8080' } })).status).toBe(200);
  });

  it('tells callers of a server without credentials apart by their address', async () => {
    const open = `${topology.url}/open/mcp`;
    const init = { method: 'POST', body: JSON.stringify(INIT), headers: JSON_HEADERS };
    const mine = await rawRequest(open, { ...init, localAddress: '127.0.0.2' });
    expect(mine.status).toBe(200);
    const sessionId = String(mine.headers['mcp-session-id']);
    const ping = { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }) };
    const inSession = { ...JSON_HEADERS, 'mcp-session-id': sessionId };
    expect((await rawRequest(open, { ...ping, headers: inSession, localAddress: '127.0.0.3' })).status).toBe(404);
    expect((await rawRequest(open, { ...ping, headers: inSession, localAddress: '127.0.0.2' })).status).toBe(200);
    const closed = await rawRequest(open, { method: 'DELETE', headers: inSession, localAddress: '127.0.0.2' });
    expect(closed.status).toBe(200);
  });

  it('is still healthy after all of the above, with no error in any log', async () => {
    const res = await fetch(`${topology.url}/health`);
    expect(res.status).toBe(200);
    for (const process of topology.all) expect(process.output()).not.toMatch(/"level":(50|60)/);
  });
});
