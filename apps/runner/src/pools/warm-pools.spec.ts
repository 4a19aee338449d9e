import { PassThrough } from 'node:stream';
import { LocalBus, type KvBucket } from '#bus';
import { decode, PoolRouteSchema, poolRouteKey, type JsonRpcMessage, type PoolCallRequest, type StreamMessage } from '#contracts';
import { createLogger, noMetrics } from '#observability';
import { nextTurn } from '#testing';
import type { BackendConnection } from '../backends/backend.port.js';
import { noCallAudit } from '../audit/call-audit.js';
import { RunnerPool } from '../sessions/runner-pool.js';
import type { StreamSink } from '../sessions/stream-sink.port.js';
import { WarmPools } from './warm-pools.js';

type Answer = (request: JsonRpcMessage & { id: string | number; method: string }, backend: ScriptedBackend) => JsonRpcMessage | undefined;

/** A backend that answers each request with what its script says (nothing: the request stays pending). */
class ScriptedBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  readonly received: JsonRpcMessage[] = [];
  constructor(private readonly answer: Answer) {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(message: JsonRpcMessage): void {
    this.received.push(message);
    if (typeof message.method === 'string' && message.id !== undefined) {
      const reply = this.answer(message as JsonRpcMessage & { id: string | number; method: string }, this);
      if (reply) queueMicrotask(() => this.onmessage?.(reply));
    }
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  emit(message: JsonRpcMessage): void {
    this.onmessage?.(message);
  }
}

class RecordingSink implements StreamSink {
  readonly events: { subject: string; event: StreamMessage }[] = [];
  publish(subject: string, event: StreamMessage): number {
    this.events.push({ subject, event });
    return 0;
  }
  deliver(): Promise<boolean> {
    return Promise.resolve(false);
  }
  /** The messages one stream received, and whether it ended. */
  on(subject: string): { messages: JsonRpcMessage[]; ended: boolean } {
    const events = this.events.filter((e) => e.subject === subject).map((e) => e.event);
    return { messages: events.flatMap((e) => (e.message ? [e.message] : [])), ended: events.some((e) => e.end) };
  }
}

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const stream = (id: string) => `gh.edge.e1.stream.${id}`;
const result = (id: string | number, value: object) => ({ jsonrpc: '2.0' as const, id, result: value });
const INIT = {
  protocolVersion: '2025-11-25',
  capabilities: { tools: { listChanged: true } },
  serverInfo: { name: 'files', version: '3.1.0' },
};
const alice = { sub: 'alice', groups: [], method: 'bearer' as const };

/** A 2025 server: refuses server/discover, lists one tool, and asks its client for input when `ask` is called. */
const bridgedServer: Answer = (request, backend) => {
  if (request.method === 'initialize') return result(request.id, INIT);
  if (request.method === 'tools/list') return result(request.id, { tools: [{ name: 'ask', inputSchema: { type: 'object' } }] });
  if (request.method === 'tools/call') {
    queueMicrotask(() =>
      backend.emit({ jsonrpc: '2.0', id: 900 + backend.received.length, method: 'elicitation/create', params: { message: 'Your name?' } }),
    );
    return undefined;
  }
  return { jsonrpc: '2.0', id: request.id, error: { code: -32601, message: 'Method not found' } };
};

function meta(capabilities: object = {}) {
  return {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'spec', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': capabilities,
  };
}

function callOf(
  id: string,
  method: string,
  params: object = {},
  who = alice,
  capabilities: object = { elicitation: { form: {} } },
): PoolCallRequest {
  return {
    server: 'files',
    principal: who,
    message: { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta(capabilities) } },
    stream: stream(id),
  };
}

async function setup(script: Answer = bridgedServer) {
  const backends: ScriptedBackend[] = [];
  const sink = new RecordingSink();
  const bus = new LocalBus();
  const routes: KvBucket = await bus.kv('routes', { ttlMs: 60_000 });
  const sessions = new RunnerPool(
    new Map([['files', { name: 'files', timeoutMs: 1000 }]]),
    { idleTimeoutMs: 60_000, maxPerUser: 10, replay: { messages: 10, bytes: 10_000 } },
    {
      createBackend: () => {
        const backend = new ScriptedBackend(script);
        backends.push(backend);
        return backend;
      },
      sink,
      routes: { put: () => Promise.resolve(), delete: () => Promise.resolve() },
      runnerId: 'r1',
      log,
      metrics: noMetrics,
      now: Date.now,
      onEnded: () => undefined,
      audit: noCallAudit,
    },
  );
  const pools = new WarmPools(
    { size: 2, inputTimeoutMs: 60_000, listTtlMs: 30_000, routeTtlMs: 60_000 },
    { sessions, sink, routes, runnerId: 'r1', log, now: Date.now },
  );
  return { pools, sink, backends, routes, sessions, close: () => bus.close() };
}

describe('WarmPools', () => {
  it('opens one warm session with the client info and capabilities of the first call, and records the pool route', async () => {
    const { pools, sink, backends, routes, close } = await setup();
    const reply = await pools.call(callOf('s1', 'tools/list'));
    await nextTurn();
    expect(reply).toMatchObject({ ok: true, runnerId: 'r1' });
    const [backend] = backends;
    const methods = backend?.received.map((m) => m.method);
    expect(methods).toEqual(['server/discover', 'initialize', 'notifications/initialized', 'tools/list']);
    expect(backend?.received[1]?.params).toMatchObject({
      capabilities: { elicitation: { form: {} } },
      clientInfo: { name: 'spec', version: '1' },
    });
    const [answer] = sink.on(stream('s1')).messages;
    expect(answer?.result).toMatchObject({ resultType: 'complete', ttlMs: 30_000, cacheScope: 'private' });
    expect(answer?.result).toHaveProperty(['_meta', 'io.modelcontextprotocol/serverInfo'], INIT.serverInfo);
    const route = await routes.get(poolRouteKey('alice', 'files'));
    expect(route && decode(PoolRouteSchema, route)).toEqual({ ok: true, value: { runnerId: 'r1', sub: 'alice', server: 'files' } });
    await close();
  });

  it('answers a second list from its cache until the backend says the list changed', async () => {
    const { pools, sink, backends, close } = await setup();
    await pools.call(callOf('s1', 'tools/list'));
    await nextTurn();
    await pools.call(callOf('s2', 'tools/list'));
    const backend = backends[0];
    expect(backend?.received.filter((m) => m.method === 'tools/list')).toHaveLength(1);
    expect(sink.on(stream('s2')).messages[0]).toMatchObject({ id: 's2', result: { tools: [{ name: 'ask' }] } });
    backend?.emit({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await pools.call(callOf('s3', 'tools/list'));
    await nextTurn();
    expect(backend?.received.filter((m) => m.method === 'tools/list')).toHaveLength(2);
    await close();
  });

  it('turns a backend request for input into input_required and answers the backend with the retry', async () => {
    const { pools, sink, backends, close } = await setup();
    await pools.call(callOf('c1', 'tools/call', { name: 'ask' }));
    await nextTurn();
    const first = sink.on(stream('c1'));
    expect(first.ended).toBe(true);
    const asked = first.messages[0]?.result as { resultType: string; inputRequests: Record<string, unknown>; requestState: string };
    expect(asked.resultType).toBe('input_required');
    expect(asked.inputRequests).toEqual({ 'elicitation-1': { method: 'elicitation/create', params: { message: 'Your name?' } } });

    const answer = { action: 'accept', content: { name: 'Alice' } };
    await pools.call(
      callOf('c2', 'tools/call', { name: 'ask', requestState: asked.requestState, inputResponses: { 'elicitation-1': answer } }),
    );
    const backend = backends[0];
    const elicitation = backend?.received.find((m) => m.result !== undefined);
    expect(elicitation).toEqual({ jsonrpc: '2.0', id: expect.any(Number), result: answer });
    const call = backend?.received.find((m) => m.method === 'tools/call');
    backend?.emit(result(call?.id as string, { content: [{ type: 'text', text: 'Hello Alice' }] }));
    expect(sink.on(stream('c2')).messages).toEqual([
      {
        jsonrpc: '2.0',
        id: call?.id,
        result: expect.objectContaining({ resultType: 'complete', content: [{ type: 'text', text: 'Hello Alice' }] }),
      },
    ]);
    expect(sink.on(stream('c2')).ended).toBe(true);
    await close();
  });

  it('asks again for what a retry left unanswered, and refuses a state that is tampered with or presented by someone else', async () => {
    const { pools, sink, close } = await setup();
    await pools.call(callOf('c1', 'tools/call', { name: 'ask' }));
    await nextTurn();
    const { requestState } = sink.on(stream('c1')).messages[0]?.result as { requestState: string };

    await pools.call(callOf('c2', 'tools/call', { name: 'ask', requestState, inputResponses: {} }));
    expect(sink.on(stream('c2')).messages[0]?.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { 'elicitation-1': {} },
    });

    const tampered = `${requestState.slice(0, -2)}AA`;
    await pools.call(callOf('c3', 'tools/call', { name: 'ask', requestState: tampered }));
    expect(sink.on(stream('c3')).messages[0]?.error).toMatchObject({ code: -32602, message: expect.stringContaining('does not belong') });
    const bob = { sub: 'bob', groups: [], method: 'bearer' as const };
    await pools.call(callOf('c4', 'tools/call', { name: 'ask', requestState }, bob));
    expect(sink.on(stream('c4')).messages[0]?.error).toMatchObject({ code: -32602 });
    await pools.call(callOf('c5', 'tools/call', { name: 'other', requestState }));
    expect(sink.on(stream('c5')).messages[0]?.error).toMatchObject({ code: -32602 });
    await close();
  });

  it('never gives one identity a session of another', async () => {
    const { pools, backends, close } = await setup();
    await pools.call(callOf('a1', 'tools/list'));
    await pools.call(callOf('b1', 'tools/list', {}, { sub: 'bob', groups: [], method: 'bearer' }));
    await pools.call(callOf('a2', 'tools/call', { name: 'ask' }));
    await nextTurn();
    expect(backends).toHaveLength(2);
    expect(backends[0]?.received.some((m) => m.method === 'tools/call')).toBe(true);
    await close();
  });

  it('passes requests through to a backend that answers server/discover itself', async () => {
    const native: Answer = (request) =>
      request.method === 'server/discover'
        ? result(request.id, {
            supportedVersions: ['2026-07-28'],
            capabilities: {},
            ttlMs: 0,
            cacheScope: 'public',
            resultType: 'complete',
          })
        : result(request.id, { resultType: 'input_required', requestState: 'the-backends-own' });
    const { pools, sink, backends, close } = await setup(native);
    await pools.call(callOf('n1', 'tools/call', { name: 'ask' }));
    await nextTurn();
    expect(backends[0]?.received.map((m) => m.method)).toEqual(['server/discover', 'tools/call']);
    expect(sink.on(stream('n1')).messages[0]?.result).toEqual({ resultType: 'input_required', requestState: 'the-backends-own' });
    await close();
  });

  it('gives calls that may need input a session each when they arrive together, while the pool has room', async () => {
    const { pools, sink, backends, close } = await setup();
    await Promise.all([pools.call(callOf('p1', 'tools/call', { name: 'ask' })), pools.call(callOf('p2', 'tools/call', { name: 'ask' }))]);
    await nextTurn();
    expect(backends).toHaveLength(2);
    for (const id of ['p1', 'p2']) expect(sink.on(stream(id)).messages[0]?.result).toMatchObject({ resultType: 'input_required' });
    await close();
  });

  it('refuses the backend a request for input its client never declared, instead of asking the client', async () => {
    const { pools, sink, backends, close } = await setup();
    await pools.call(callOf('u1', 'tools/call', { name: 'ask' }, alice, {}));
    await nextTurn();
    expect(sink.on(stream('u1')).messages).toEqual([]);
    const refusal = backends[0]?.received.find((m) => m.error !== undefined);
    expect(refusal?.error).toMatchObject({ code: -32603, message: expect.stringContaining('did not declare') });
    await close();
  });

  it('refuses a retry sent to another server than the call it continues', async () => {
    const { pools, sink, close } = await setup();
    await pools.call(callOf('c1', 'tools/call', { name: 'ask' }));
    await nextTurn();
    const { requestState } = sink.on(stream('c1')).messages[0]?.result as { requestState: string };
    const elsewhere = { ...callOf('c2', 'tools/call', { name: 'ask', requestState }), server: 'other' };
    expect(await pools.call(elsewhere)).toMatchObject({ ok: false, error: { code: 'SESSION_NOT_FOUND' } });
    await close();
  });
});
