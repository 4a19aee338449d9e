import { rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { childPids, eventually, isAlive, startTopology, type Topology, type TopologyKind } from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import {
  ANSWERS,
  MODERN,
  WireLog,
  connectModern,
  envelope,
  postModern,
  type Exchange,
  type JsonRpcMessage,
  type RawAnswer,
} from './support/mcp-2026.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';

/**
 * Clients of MCP revision 2026-07-28 (stateless: no initialize, no Mcp-Session-Id, `_meta` on every
 * request, server→client requests as `input_required` results) on the same `/{server}/mcp` endpoint
 * as 2025 clients, served from warm 2025 sessions of server-everything (which speaks only 2025-11-25).
 */

/** Results that MUST carry caching hints (server/utilities/caching). */
const CACHEABLE = ['server/discover', 'tools/list', 'resources/list', 'prompts/list', 'resources/read'];
const CACHE_HINTS = { ttlMs: expect.any(Number), cacheScope: expect.stringMatching(/^(public|private)$/) };
const STATIC_DOC = 'demo://resource/static/document/architecture.md';

function resultOf(exchange: Exchange): Record<string, unknown> {
  const response = WireLog.responseOf(exchange);
  if (response?.result === undefined) throw new Error(`no result for ${exchange.request?.method}: ${JSON.stringify(exchange.messages)}`);
  return response.result;
}

/** What the raw client answers to an input request other than the one a test is about. */
function answerTo(request: JsonRpcMessage): unknown {
  if (request.method === 'roots/list') return { roots: [ANSWERS.root] };
  if (request.method === 'elicitation/create') return { action: 'decline' };
  return { role: 'assistant', model: 'raw-2026', content: { type: 'text', text: ANSWERS.sampled } };
}

/** The status of a raw answer, with its body in the failure message. */
function expectStatus(answer: RawAnswer, status: number): void {
  if (answer.status !== status) throw new Error(`expected HTTP ${status}, got ${answer.status}: ${answer.text}`);
}

/** A request's params member `name` as an object (its `_meta`, its `inputResponses`). */
function paramsObject(exchange: Exchange | undefined, name: string): Record<string, unknown> {
  const value = exchange?.request?.params?.[name];
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

/** The embedded requests of an input_required result, by key. */
function inputRequestsOf(result: Record<string, unknown> | undefined): Record<string, JsonRpcMessage> {
  const requests = result?.inputRequests ?? {};
  if (typeof requests !== 'object' || requests === null) throw new Error(`inputRequests is not a map: ${JSON.stringify(result)}`);
  return requests as Record<string, JsonRpcMessage>;
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('2026-07-28 stateless clients (%s)', (kind) => {
  let topology: Topology;
  let configDir: string;
  let mcpUrl: string;

  const backends = (): number[] => topology.runners.flatMap((r) => childPids(r.pid));

  beforeAll(async () => {
    const config = writeGatewayConfig({
      maxPerUser: 4,
      runnerGroup: `stateless${Date.now().toString(36)}${kind === 'all-in-one' ? 'a' : 'd'}`,
    });
    configDir = config.dir;
    // One runner, so that "no new backend" is read off one process tree; two edges over NATS.
    topology = await startTopology(kind, config.path, { env: GATEWAY_ENV, runnerCount: 1, edgeCount: kind === 'distributed' ? 2 : 1 });
    mcpUrl = `${topology.url}/everything/mcp`;
  }, 60000);

  afterAll(async () => {
    rmSync(configDir, { recursive: true, force: true });
    if (!topology) return;
    // Warm backends are stopped with their runner, and every process stops on SIGTERM by itself.
    const running = backends();
    const stopped = await topology.stop();
    expect(stopped).toEqual({ forced: 0 });
    await eventually(() => !running.some(isAlive), 'a warm backend outlived its runner');
  });

  it('serves tools, resources and prompts to a client that speaks only 2026-07-28: complete results with cache hints, no session', async () => {
    const { client, wire } = await connectModern(mcpUrl, bearer(TOKENS.alice));
    expect(client.getProtocolEra()).toBe('modern');
    expect(client.getNegotiatedProtocolVersion()).toBe(MODERN);

    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'echo',
        'get-sum',
        'trigger-long-running-operation',
        'trigger-sampling-request',
        'trigger-elicitation-request',
      ]),
    );
    expect(tools).toMatchObject(CACHE_HINTS);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hello 2026' } }))).toBe('Echo: hello 2026');
    expect(textOf(await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 40 } }))).toContain('42');

    const resources = await client.listResources();
    expect(resources.resources.map((r) => r.uri)).toContain(STATIC_DOC);
    expect(resources).toMatchObject(CACHE_HINTS);
    const read = await client.readResource({ uri: STATIC_DOC });
    expect(read.contents).toEqual([
      expect.objectContaining({ uri: STATIC_DOC, mimeType: 'text/markdown', text: expect.stringContaining('Architecture') }),
    ]);

    const prompts = await client.listPrompts();
    expect(prompts.prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['simple-prompt', 'args-prompt']));
    expect(prompts).toMatchObject(CACHE_HINTS);
    const prompt = await client.getPrompt({ name: 'args-prompt', arguments: { city: 'Lisbon' } });
    expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: expect.stringContaining('Lisbon') } }]);

    // On the wire (the SDK strips resultType before handing a result back): every answer is a
    // complete result, the cacheable ones carry hints, and there is no initialize and no session.
    await wire.settled();
    for (const method of [
      'server/discover',
      'tools/list',
      'tools/call',
      'resources/list',
      'resources/read',
      'prompts/list',
      'prompts/get',
    ]) {
      const exchanges = wire.of(method);
      expect([method, exchanges.length > 0]).toEqual([method, true]);
      for (const exchange of exchanges) {
        expect(exchange.status).toBe(200);
        expect(resultOf(exchange)).toMatchObject({ resultType: 'complete', ...(CACHEABLE.includes(method) ? CACHE_HINTS : {}) });
      }
    }
    expect(wire.of('initialize')).toEqual([]);
    expect(wire.exchanges.map((e) => e.sessionId)).toEqual(wire.exchanges.map(() => null));
    await client.close();
  });

  it("answers server/discover with 2026-07-28 among its versions and the backend's capabilities", async () => {
    const { client, wire } = await connectModern(mcpUrl, bearer(TOKENS.alice));
    const atConnect = client.getDiscoverResult();
    const asked = await client.discover();
    for (const discovered of [atConnect, asked]) {
      expect(discovered?.supportedVersions).toContain(MODERN);
      // server-everything's own: tools, resources and prompts.
      expect(discovered?.capabilities).toMatchObject({
        tools: expect.any(Object),
        resources: expect.any(Object),
        prompts: expect.any(Object),
      });
    }
    await wire.settled();
    const probes = wire.of('server/discover');
    expect(probes.length).toBeGreaterThanOrEqual(1);
    for (const probe of probes) {
      expect(paramsObject(probe, '_meta')).toMatchObject({ 'io.modelcontextprotocol/protocolVersion': MODERN });
      expect(resultOf(probe)).toMatchObject({
        resultType: 'complete',
        supportedVersions: expect.arrayContaining([MODERN]),
        ...CACHE_HINTS,
      });
    }
    await client.close();
  });

  it('streams progress notifications to the client while a long-running tool runs', async () => {
    const { client, wire } = await connectModern(mcpUrl, bearer(TOKENS.alice));
    const steps = 4;
    const progress: { progress: number; at: number }[] = [];
    const result = await client.callTool(
      { name: 'trigger-long-running-operation', arguments: { duration: 2, steps } },
      { onprogress: (p) => progress.push({ progress: p.progress, at: Date.now() }) },
    );
    const finishedAt = Date.now();
    expect(textOf(result)).toContain('Long running operation completed');
    // In order, none missing; the SDK client may drop the very last one when it shares a read with the response.
    // server-everything asks for roots 350 ms after initialize, so the call may take an input_required round,
    // for which the SDK reports a progress of its own: a value may come twice, never out of order.
    const values = [...new Set(progress.map((p) => p.progress))];
    expect(values).toEqual([1, 2, 3, 4].slice(0, values.length));
    expect(values.length).toBeGreaterThanOrEqual(steps - 1);
    // The first step came while three more (1.5 s of the backend's sleeping) were still to run: streamed, not buffered.
    expect(finishedAt - (progress[0]?.at ?? finishedAt)).toBeGreaterThanOrEqual(750);

    await wire.settled();
    // The exchange that completed the call (after an input_required round, the retry), under its own token.
    const call = wire.of('tools/call').at(-1);
    if (!call) throw new Error('no tools/call on the wire');
    const token = paramsObject(call, '_meta').progressToken;
    expect(token).toBeDefined();
    expect(call.contentType).toContain('text/event-stream');
    const notifications = call.messages.filter((m) => m.method === 'notifications/progress');
    expect(notifications.length).toBeGreaterThanOrEqual(steps - 1);
    for (const n of notifications) expect(n.params).toMatchObject({ progressToken: token });
    expect(call.messages.at(-1)).toMatchObject({ id: call.request?.id, result: { resultType: 'complete' } });
    await client.close();
  });

  it("bridges the backend's sampling and elicitation requests to input_required results the client's handlers answer", async () => {
    const { client, wire, sampled, elicited } = await connectModern(mcpUrl, bearer(TOKENS.alice));
    const sampling = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: `sample-${kind}`, maxTokens: 10 } });
    expect(sampled).toEqual([expect.stringContaining(`sample-${kind}`)]);
    expect(textOf(sampling)).toContain(ANSWERS.sampled);

    const elicitation = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    expect(elicited).toEqual(['Please provide inputs for the following fields:']);
    expect(textOf(elicitation)).toContain(`- Name: ${ANSWERS.elicitedName}`);
    expect(textOf(elicitation)).toContain('- Agreed to terms: true');

    // Each went through the multi round-trip pattern: input_required (interim, no cache hints), then a
    // retry on a fresh id with inputResponses for every input request and the byte-exact requestState,
    // until a complete result.
    await wire.settled();
    for (const [tool, method] of [
      ['trigger-sampling-request', 'sampling/createMessage'],
      ['trigger-elicitation-request', 'elicitation/create'],
    ] as const) {
      const legs = wire.of('tools/call').filter((e) => e.request?.params?.name === tool);
      expect([tool, legs.length >= 2]).toEqual([tool, true]);
      const results = legs.map(resultOf);
      expect(results.at(-1)).toMatchObject({ resultType: 'complete' });
      const interims = results.slice(0, -1);
      interims.forEach((interim, i) => {
        expect(interim).toMatchObject({ resultType: 'input_required' });
        expect(interim).not.toHaveProperty('ttlMs');
        const [asked, retry] = [legs[i], legs[i + 1]];
        expect(retry?.request?.id).not.toEqual(asked?.request?.id);
        expect(Object.keys(paramsObject(retry, 'inputResponses')).sort()).toEqual(Object.keys(inputRequestsOf(interim)).sort());
        expect(retry?.request?.params?.requestState).toEqual(interim.requestState);
      });
      expect(interims.flatMap((r) => Object.values(inputRequestsOf(r)).map((q) => q.method))).toContain(method);
    }
    await client.close();
  });

  it("keeps one warm backend per identity: a user's requests share it, another user's never reach it", async () => {
    const added = (now: number[], before: number[]) => now.filter((pid) => !before.includes(pid));
    const text = `kept in bob's backend (${kind})`;
    const name = `bob-${kind}.txt.gz`;
    const uri = `demo://resource/session/${name}`;
    const before = backends();

    // server-everything keeps a resource made by this tool in its process, for later reads.
    const bob = await connectModern(mcpUrl, bearer(TOKENS.bob));
    const made = await bob.client.callTool({
      name: 'gzip-file-as-resource',
      arguments: { name, data: `data:text/plain,${encodeURIComponent(text)}` },
    });
    expect(made.content).toEqual([expect.objectContaining({ type: 'resource_link', uri })]);
    await bob.client.close();
    const afterBob = backends();
    const bobs = added(afterBob, before);
    expect(bobs.length).toBeGreaterThanOrEqual(1);

    // Another client of the same identity, another request: the same process, which still holds the resource.
    const bobAgain = await connectModern(mcpUrl, bearer(TOKENS.bob));
    const [contents] = (await bobAgain.client.readResource({ uri })).contents;
    expect(contents).toMatchObject({ uri, mimeType: 'application/gzip' });
    expect(contents && 'blob' in contents ? gunzipSync(Buffer.from(contents.blob, 'base64')).toString('utf8') : undefined).toBe(text);
    await bobAgain.client.close();
    const afterBobAgain = backends();
    expect(added(afterBobAgain, afterBob)).toEqual([]);

    // Another identity gets a backend of its own, which never heard of bob's resource.
    const carol = await connectModern(mcpUrl, bearer(TOKENS.carol));
    const refused = await carol.client.readResource({ uri }).then(
      (r) => `read: ${JSON.stringify(r)}`,
      (err: unknown) => String(err),
    );
    expect(refused).toContain('not found');
    expect((await carol.client.listResources()).resources.map((r) => r.uri)).not.toContain(uri);
    await carol.client.close();
    expect(added(backends(), afterBobAgain).length).toBeGreaterThanOrEqual(1);
    // Bob's stays warm meanwhile.
    expect(bobs.filter(isAlive)).toEqual(bobs);
  });

  it(`completes an input_required call whose retry goes to ${kind === 'distributed' ? 'the other edge' : 'a new connection'} (raw HTTP)`, async () => {
    const [first = '', second = first] = topology.urls;
    if (kind === 'distributed') expect(second).not.toBe(first);
    const auth = bearer(TOKENS.alice);
    const params = { name: 'trigger-sampling-request', arguments: { prompt: `across-${kind}`, maxTokens: 5 }, _meta: envelope() };
    const asked = await postModern(`${first}/everything/mcp`, auth, { jsonrpc: '2.0', id: 'ask-1', method: 'tools/call', params });
    expectStatus(asked, 200);
    expect(asked.headers.get('mcp-session-id')).toBeNull();
    const interim = asked.response?.result;
    expect(interim).toMatchObject({ resultType: 'input_required' });
    const requests = inputRequestsOf(interim);
    const samplingKey = Object.keys(requests).find((key) => requests[key]?.method === 'sampling/createMessage');
    expect(samplingKey && requests[samplingKey]).toMatchObject({
      method: 'sampling/createMessage',
      params: { messages: [{ role: 'user', content: { type: 'text', text: expect.stringContaining(`across-${kind}`) } }] },
    });

    const answer = { role: 'assistant', model: 'raw-2026', content: { type: 'text', text: `answered through ${second}` } };
    const inputResponses = Object.fromEntries(
      Object.entries(requests).map(([key, request]) => [key, key === samplingKey ? answer : answerTo(request)]),
    );
    const retried = await postModern(`${second}/everything/mcp`, auth, {
      jsonrpc: '2.0',
      id: 'ask-2',
      method: 'tools/call',
      params: { ...params, inputResponses, ...(interim?.requestState !== undefined && { requestState: interim.requestState }) },
    });
    expectStatus(retried, 200);
    expect(retried.headers.get('mcp-session-id')).toBeNull();
    expect(retried.response).toMatchObject({
      id: 'ask-2',
      result: { resultType: 'complete', content: [{ type: 'text', text: expect.stringContaining(answer.content.text) }] },
    });
  });

  it('still serves a 2025-11-25 client (SDK v1, with a session) on the same endpoint', async () => {
    const { client, transport, sampled } = await connectStreamable(mcpUrl, bearer(TOKENS.alice));
    expect(transport.protocolVersion).toBe('2025-11-25');
    expect(transport.sessionId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hello 2025' } }))).toBe('Echo: hello 2025');
    const sampling = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'legacy-ping', maxTokens: 5 } });
    expect(sampled).toEqual([expect.stringContaining('legacy-ping')]);
    expect(textOf(sampling)).toContain('sampled by the e2e client');
    await transport.terminateSession();
    await client.close();
  });

  it('refuses a POST whose Mcp-Name does not match its body (-32020) and an unknown MCP-Protocol-Version (-32022)', async () => {
    const auth = bearer(TOKENS.alice);
    const call = (id: string): JsonRpcMessage => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'headers' }, _meta: envelope() },
    });
    // The same request with matching headers is served: what follows is refused for its headers alone.
    const matching = await postModern(mcpUrl, auth, call('match-1'));
    expectStatus(matching, 200);
    expect(matching.response).toMatchObject({
      id: 'match-1',
      result: { resultType: 'complete', content: [{ type: 'text', text: 'Echo: headers' }] },
    });

    const mismatch = await postModern(mcpUrl, auth, call('mismatch-1'), { 'mcp-name': 'get-sum' });
    expectStatus(mismatch, 400);
    expect(mismatch.messages).toEqual([{ jsonrpc: '2.0', id: 'mismatch-1', error: expect.objectContaining({ code: -32020 }) }]);

    const list: JsonRpcMessage = {
      jsonrpc: '2.0',
      id: 'version-1',
      method: 'tools/list',
      params: { _meta: { ...envelope(), 'io.modelcontextprotocol/protocolVersion': '1900-01-01' } },
    };
    const unknown = await postModern(mcpUrl, auth, list, { 'mcp-protocol-version': '1900-01-01' });
    expectStatus(unknown, 400);
    expect(unknown.messages).toEqual([
      {
        jsonrpc: '2.0',
        id: 'version-1',
        error: expect.objectContaining({
          code: -32022,
          data: expect.objectContaining({ supported: expect.arrayContaining([MODERN, '2025-11-25']) }),
        }),
      },
    ]);
  });
});
