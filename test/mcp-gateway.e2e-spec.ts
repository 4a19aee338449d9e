import { rmSync } from 'node:fs';
import { childPids, eventually, isAlive, startTopology, type Topology, type TopologyKind } from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import { bearer, connectSse, connectStreamable, textOf } from './support/mcp-clients.js';
import { INIT, JSON_HEADERS, rawDelete, rawInitialize, rawPost } from './support/raw-mcp.js';

const MAX_PER_USER = 4;

/** The status of a ping in session `id`: 200 while it lives, 404 once it is gone. */
async function ping(url: string, token: string, id: string): Promise<number> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ping' });
  const headers = { ...JSON_HEADERS, authorization: bearer(token), 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  return (await rawPost(url, body, headers)).status;
}

/** A tool call that runs for seconds; `running` resolves at its first progress event, `done` when its stream ends. */
async function longCall(url: string, token: string, id: string): Promise<{ done: Promise<void> }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 9,
    method: 'tools/call',
    params: { name: 'trigger-long-running-operation', arguments: { duration: 20, steps: 20 }, _meta: { progressToken: 'p' } },
  });
  const headers = {
    ...JSON_HEADERS,
    accept: 'text/event-stream',
    authorization: bearer(token),
    'mcp-session-id': id,
    'mcp-protocol-version': '2025-11-25',
  };
  const res = await fetch(url, { method: 'POST', body, headers });
  const reader: ReadableStreamDefaultReader<Uint8Array> | undefined = res.body?.getReader();
  if (!reader) throw new Error(`no stream: ${res.status}`);
  let text = '';
  while (!text.includes('notifications/progress')) {
    const chunk = await reader.read();
    if (chunk.done) throw new Error(`the call ended before any progress: ${text}`);
    text += new TextDecoder().decode(chunk.value);
  }
  const drain = async (): Promise<void> => {
    while (!(await reader.read()).done);
  };
  return { done: drain().catch(() => undefined) };
}

function backendPids(topology: Topology): number[] {
  return topology.runners.flatMap((r) => childPids(r.pid));
}

/**
 * Progress arrives in order before the response. The SDK client may drop the last one when it
 * lands in the same read as the response, so only the earlier steps are certain.
 */
function expectProgress(progress: number[], steps: number): void {
  const all = Array.from({ length: steps }, (_, i) => i + 1);
  expect(progress).toEqual(all.slice(0, progress.length));
  expect(progress.length).toBeGreaterThanOrEqual(steps - 1);
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('gateway (%s)', (kind) => {
  let topology: Topology;
  let configDir: string;
  let mcpUrl: string;

  beforeAll(async () => {
    const config = writeGatewayConfig({
      maxPerUser: MAX_PER_USER,
      runnerGroup: `e2e${Date.now().toString(36)}${kind === 'all-in-one' ? 'a' : 'd'}`,
    });
    configDir = config.dir;
    topology = await startTopology(kind, config.path, { env: GATEWAY_ENV, runnerCount: 2 });
    mcpUrl = `${topology.url}/everything/mcp`;
  }, 60000);

  afterAll(async () => {
    rmSync(configDir, { recursive: true, force: true });
    // Every process stops on SIGTERM by itself, even with a stream still open.
    const sse = await connectSse(`${topology.url}/everything/sse`, bearer(TOKENS.bob)).catch(() => undefined);
    const backends = backendPids(topology);
    const stopped = await topology.stop();
    await sse?.client.close();
    expect(sse).toBeDefined();
    expect(backends).toHaveLength(1);
    expect(stopped).toEqual({ forced: 0 });
    await eventually(() => !backends.some(isAlive), 'a backend outlived its runner');
  });

  afterEach(async () => {
    try {
      await eventually(() => backendPids(topology).length === 0, 'backends are still running after the test closed its sessions');
    } catch (err) {
      // Fail this test, not the ones after it.
      for (const pid of backendPids(topology)) process.kill(-pid, 'SIGKILL');
      throw err;
    }
  });

  it('serves the real SDK client over streamable HTTP: tools, progress, sampling, DELETE', async () => {
    const { client, transport, sampled } = await connectStreamable(mcpUrl, bearer(TOKENS.alice));
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'trigger-long-running-operation']));

    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hello gateway' } }))).toContain('hello gateway');

    const progress: number[] = [];
    const long = await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 1, steps: 4 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(textOf(long)).toContain('Long running operation completed');
    expectProgress(progress, 4);

    const sampling = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'ping', maxTokens: 10 } });
    expect(sampled).toEqual([expect.stringContaining('ping')]);
    expect(textOf(sampling)).toContain('sampled by the e2e client');

    const sessionId = transport.sessionId;
    expect(sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await transport.terminateSession();
    await client.close();
    const after = await rawPost(mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }), {
      ...JSON_HEADERS,
      authorization: bearer(TOKENS.alice),
      'mcp-session-id': sessionId ?? '',
    });
    expect(after.status).toBe(404);
  });

  it('serves the real SDK client over legacy HTTP+SSE', async () => {
    const { client, sampled } = await connectSse(`${topology.url}/everything/sse`, bearer(TOKENS.bob));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'over sse' } }))).toContain('over sse');
    const progress: number[] = [];
    await client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 0.6, steps: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expectProgress(progress, 3);
    await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'sse-ping', maxTokens: 5 } });
    expect(sampled).toEqual([expect.stringContaining('sse-ping')]);
    await client.close();
  });

  it('gives each user their own subprocess with only allowlisted and configured environment', async () => {
    const before = backendPids(topology).length;
    const alice = await connectStreamable(mcpUrl, bearer(TOKENS.alice));
    const bob = await connectStreamable(mcpUrl, bearer(TOKENS.bob));
    expect(backendPids(topology).length).toBe(before + 2);
    const env = textOf(await alice.client.callTool({ name: 'get-env', arguments: {} }));
    expect(env).toContain('configured-value');
    expect(env).toContain('PATH');
    for (const secret of ['canary-must-not-leak', TOKENS.alice, 'NATS_URL', 'E2E_TOKEN_ALICE']) expect(env).not.toContain(secret);
    await alice.transport.terminateSession();
    await bob.transport.terminateSession();
    await Promise.all([alice.client.close(), bob.client.close()]);
  });

  it("answers 404 when another identity presents a user's session id", async () => {
    const aliceSession = await rawInitialize(mcpUrl, bearer(TOKENS.alice));
    const asBob = { ...JSON_HEADERS, authorization: bearer(TOKENS.bob), 'mcp-session-id': aliceSession };
    const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect((await rawPost(mcpUrl, list, asBob)).status).toBe(404);
    expect(await rawDelete(mcpUrl, bearer(TOKENS.bob), aliceSession)).toBe(404);
    const asAlice = { ...asBob, authorization: bearer(TOKENS.alice) };
    expect((await rawPost(mcpUrl, list, asAlice)).status).toBe(200);
    expect(await rawDelete(mcpUrl, bearer(TOKENS.alice), aliceSession)).toBe(200);
  });

  it('applies the tool filter and basic credentials', async () => {
    const basic = `Basic ${Buffer.from('svc:basic-password').toString('base64')}`;
    const { client, transport } = await connectStreamable(`${topology.url}/filtered/mcp`, basic);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    const refused = await client.callTool({ name: 'get-env', arguments: {} }).catch((err: unknown) => err);
    expect(String(refused)).toContain('not available');
    await transport.terminateSession();
    await client.close();
  });

  it('makes room for a new session by closing the least recently used idle one', async () => {
    // maxPerUser holds per runner: with two runners the cap is between MAX_PER_USER and twice that.
    const capacity = MAX_PER_USER * topology.runners.length;
    const ids: string[] = [];
    for (let i = 0; i <= capacity; i++) ids.push(await rawInitialize(mcpUrl, bearer(TOKENS.carol)));
    const statuses = await Promise.all(ids.map((id) => ping(mcpUrl, TOKENS.carol, id)));
    expect(statuses.filter((s) => s === 404).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(capacity);
    if (kind === 'all-in-one') expect(statuses).toEqual([404, ...ids.slice(1).map(() => 200)]);
    await Promise.all(ids.map((id) => rawDelete(mcpUrl, bearer(TOKENS.carol), id)));
  });

  it('refuses a session with a clear JSON-RPC error only when every session of the caller is busy', async () => {
    const ids: string[] = [];
    const calls: Promise<void>[] = [];
    let refused: Awaited<ReturnType<typeof rawPost>> | undefined;
    // Two runners hold at most twice the cap, so one of these opens must find its runner full of busy sessions.
    for (let i = 0; i <= MAX_PER_USER * topology.runners.length && !refused; i++) {
      const res = await rawPost(mcpUrl, JSON.stringify(INIT), { ...JSON_HEADERS, authorization: bearer(TOKENS.carol) });
      const id = res.headers.get('mcp-session-id');
      if (!id) {
        refused = res;
        break;
      }
      ids.push(id);
      calls.push((await longCall(mcpUrl, TOKENS.carol, id)).done);
    }
    expect(refused?.status).toBe(429);
    expect(refused?.json).toMatchObject({ jsonrpc: '2.0', id: 1, error: { message: expect.stringContaining('all of them busy') } });
    await Promise.all(ids.map((id) => rawDelete(mcpUrl, bearer(TOKENS.carol), id)));
    await Promise.all(calls);
  });

  it('fails in-flight requests at once when the backend exits, then answers 404', async () => {
    // This session's backend: the one started by its initialize, not one of an earlier test's still exiting.
    const earlier = new Set(backendPids(topology));
    const { client, transport } = await connectStreamable(mcpUrl, bearer(TOKENS.alice));
    const backend = backendPids(topology).find((pid) => !earlier.has(pid));
    if (backend === undefined) throw new Error('no backend process');
    const call = client.callTool({ name: 'trigger-long-running-operation', arguments: { duration: 30, steps: 30 } }).then(
      () => 'resolved',
      (err: unknown) => String(err),
    );
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = Date.now();
    process.kill(backend, 'SIGKILL');
    expect(await call).toContain('Session ended');
    expect(Date.now() - killedAt).toBeLessThan(2000);
    const after = await rawPost(mcpUrl, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }), {
      ...JSON_HEADERS,
      authorization: bearer(TOKENS.alice),
      'mcp-session-id': transport.sessionId ?? '',
    });
    expect(after.status).toBe(404);
    await client.close();
  });

  it('carries large messages as far as the bus allows, and says so clearly beyond that', async () => {
    const { client, transport } = await connectStreamable(mcpUrl, bearer(TOKENS.alice));
    const big = 'x'.repeat(1536 * 1024);
    if (kind === 'all-in-one') {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: big } }))).toContain(big);
    } else {
      // Over NATS the server's max_payload (1 MiB by default) bounds a message: 413, the session lives on.
      const refused = await client.callTool({ name: 'echo', arguments: { message: big } }).catch((err: unknown) => String(err));
      expect(refused).toContain('Payload Too Large');
      expect(refused).toContain('message bus');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'after' } }))).toContain('after');
    }
    await transport.terminateSession();
    await client.close();
  });

  it('refuses foreign web origins on a server without credentials (DNS rebinding)', async () => {
    const url = `${topology.url}/open/mcp`;
    const foreign = await rawPost(url, JSON.stringify(INIT), { ...JSON_HEADERS, origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    const sessionId = await rawInitialize(url, '');
    expect(await rawDelete(url, '', sessionId)).toBe(200);
  });

  it('answers 404 to GET and DELETE of a session that has ended', async () => {
    const sessionId = await rawInitialize(mcpUrl, bearer(TOKENS.alice));
    expect(await rawDelete(mcpUrl, bearer(TOKENS.alice), sessionId)).toBe(200);
    const res = await fetch(mcpUrl, {
      headers: { authorization: bearer(TOKENS.alice), accept: 'text/event-stream', 'mcp-session-id': sessionId },
    });
    expect(res.status).toBe(404);
    await res.arrayBuffer();
    expect(await rawDelete(mcpUrl, bearer(TOKENS.alice), sessionId)).toBe(404);
  });

  it('leaves no child process behind after 100 sessions', async () => {
    const auth = bearer(TOKENS.alice);
    for (let batch = 0; batch < 100 / MAX_PER_USER; batch++) {
      const ids = await Promise.all(Array.from({ length: MAX_PER_USER }, () => rawInitialize(mcpUrl, auth)));
      const statuses = await Promise.all(ids.map((id) => rawDelete(mcpUrl, auth, id)));
      expect(statuses.every((s) => s === 200)).toBe(true);
    }
    await eventually(() => backendPids(topology).length === 0, 'child processes left after 100 sessions');
  }, 120000);
});
