import { rmSync } from 'node:fs';
import { startTopology, type Topology } from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import { bearer } from './support/mcp-clients.js';
import { INIT, JSON_HEADERS, rawDelete, rawInitialize, rawPost } from './support/raw-mcp.js';

describe('bad input gets a clear 4xx, never a crash or a 500', () => {
  let topology: Topology;
  let configDir: string;
  let url: string;
  const auth = { ...JSON_HEADERS, authorization: bearer(TOKENS.alice) };
  const list = JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' });

  beforeAll(async () => {
    const config = writeGatewayConfig({ maxPerUser: 4, runnerGroup: `bad${Date.now().toString(36)}` });
    configDir = config.dir;
    topology = await startTopology('all-in-one', config.path, { env: GATEWAY_ENV });
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
    expect(res.text).toMatch(/^event: message\ndata: \{"jsonrpc":"2.0","id":1,"result":/);
    const sessionId = res.headers.get('mcp-session-id') ?? '';
    expect(await rawDelete(url, bearer(TOKENS.alice), sessionId)).toBe(200);
    expect((await rawPost(url, JSON.stringify(INIT), { ...auth, accept: 'text/html' })).status).toBe(406);
  });

  it('is still healthy after all of the above', async () => {
    const res = await fetch(`${topology.url}/health`);
    expect(res.status).toBe(200);
    expect(topology.all[0]?.output()).not.toMatch(/"level":(50|60)/);
  });
});
