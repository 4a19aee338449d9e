import { PassThrough } from 'node:stream';
import type { JsonRpcMessage, RequestId } from '#contracts';
import { createLogger } from '#observability';
import type { BackendConnection } from '../backends/backend.port.js';
import { RunnerSession } from './runner-session.js';
import type { StreamSink } from './stream-sink.port.js';
import { ToolFilter, type ToolFilterConfig } from './tool-filter.js';

class FakeBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  readonly sent: JsonRpcMessage[] = [];
  closes = 0;
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(message: JsonRpcMessage): void {
    this.sent.push(message);
  }
  close(): Promise<void> {
    this.closes += 1;
    return Promise.resolve();
  }
  /** The backend writes a message to the runner. */
  emit(message: JsonRpcMessage): void {
    this.onmessage?.(message);
  }
}

type Sent = { stream: string; sessionId: string; message: JsonRpcMessage };

class RecordingSink implements StreamSink {
  readonly published: Sent[] = [];
  readonly delivered: Sent[] = [];
  readonly attempts: string[] = [];
  readonly refusing = new Set<string>();
  publish(stream: string, sessionId: string, message: JsonRpcMessage): void {
    this.published.push({ stream, sessionId, message });
  }
  deliver(stream: string, sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    this.attempts.push(stream);
    if (this.refusing.has(stream)) return Promise.resolve(false);
    this.delivered.push({ stream, sessionId, message });
    return Promise.resolve(true);
  }
}

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const request = (id: RequestId, method: string, params?: object): JsonRpcMessage => ({ jsonrpc: '2.0', id, method, params });
const result = (id: RequestId, value: object = {}): JsonRpcMessage => ({ jsonrpc: '2.0', id, result: value });
const notification = (method: string, params?: object): JsonRpcMessage => ({ jsonrpc: '2.0', method, params });
const progress = (progressToken: RequestId) => notification('notifications/progress', { progressToken, progress: 1 });
/** Lets the session's delivery chain run (the sink answers at once). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setup(options: { toolFilter?: ToolFilterConfig; attached?: string } = {}) {
  const backend = new FakeBackend();
  const sink = new RecordingSink();
  const ended: string[] = [];
  const deps = {
    sink,
    toolFilter: new ToolFilter(options.toolFilter),
    log,
    now: () => 0,
    onEnded: (_: RunnerSession, reason: string) => ended.push(reason),
  };
  const session = new RunnerSession({ id: 'sess-1', sub: 'alice', server: 'files' }, backend, deps, options.attached);
  return { backend, sink, session, ended };
}

describe('RunnerSession', () => {
  describe('open', () => {
    const initialize = { jsonrpc: '2.0' as const, id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } };

    it('relays initialize to the backend and resolves with its answer', async () => {
      const { backend, sink, session } = setup();
      const opening = session.open(initialize, 1000);
      await settle();
      expect(backend.sent).toEqual([initialize]);
      backend.emit(result(0, { protocolVersion: '2025-06-18' }));
      await expect(opening).resolves.toEqual(result(0, { protocolVersion: '2025-06-18' }));
      expect(sink.published).toEqual([]);
    });

    it('rejects when the backend does not answer initialize in time', async () => {
      const { session } = setup();
      await expect(session.open(initialize, 20)).rejects.toThrow('the backend did not answer initialize within 20 ms');
    });

    it('rejects with the reason when the backend exits during initialize', async () => {
      const { backend, session } = setup();
      const opening = session.open(initialize, 1000);
      await settle();
      backend.onclose?.('the backend exited (code 1)');
      await expect(opening).rejects.toThrow('the backend exited (code 1)');
    });
  });

  it('ends once, calling onEnded once, when the backend closes by itself', async () => {
    const { backend, session, ended } = setup();
    backend.onclose?.('the backend exited (code 0)');
    backend.onclose?.('the backend exited (code 0)');
    await session.end('closed');
    expect(ended).toEqual(['the backend exited (code 0)']);
    expect(backend.closes).toBe(1);
    expect(session.isEnded).toBe(true);
  });

  it('drops the late response of a request the client cancelled, and still forwards the cancel', () => {
    const { backend, sink, session } = setup();
    session.fromClient(request(1, 'tools/call'), 'post-a');
    const cancel = notification('notifications/cancelled', { requestId: 1 });
    session.fromClient(cancel, undefined);
    backend.emit(result(1));
    expect(backend.sent).toEqual([request(1, 'tools/call'), cancel]);
    expect(sink.published).toEqual([]);
  });

  it('sends a response to the stream of its request', () => {
    const { backend, sink, session } = setup();
    session.fromClient(request(1, 'resources/list'), 'post-a');
    session.fromClient(request(2, 'resources/list'), 'post-b');
    backend.emit(result(2));
    backend.emit(result(1));
    expect(backend.sent).toEqual([request(1, 'resources/list'), request(2, 'resources/list')]);
    expect(sink.published).toEqual([
      { stream: 'post-b', sessionId: 'sess-1', message: result(2) },
      { stream: 'post-a', sessionId: 'sess-1', message: result(1) },
    ]);
  });

  it("sends progress carrying a request's progressToken to that request's stream", async () => {
    const { backend, sink, session } = setup({ attached: 'get-1' });
    session.fromClient(request(1, 'tools/call', { name: 'a', _meta: { progressToken: 'p1' } }), 'post-a');
    session.fromClient(request(2, 'tools/call', { name: 'b', _meta: { progressToken: 'p2' } }), 'post-b');
    backend.emit(progress('p2'));
    backend.emit(progress('p1'));
    await settle();
    expect(sink.published.map((p) => [p.stream, p.message])).toEqual([
      ['post-b', progress('p2')],
      ['post-a', progress('p1')],
    ]);
    expect(sink.delivered).toEqual([]);
  });

  it('treats progress after the response as server-initiated', async () => {
    const { backend, sink, session } = setup({ attached: 'get-1' });
    session.fromClient(request(1, 'tools/call', { name: 'a', _meta: { progressToken: 'p1' } }), 'post-a');
    backend.emit(result(1));
    backend.emit(progress('p1'));
    await settle();
    expect(sink.published.map((p) => p.message)).toEqual([result(1)]);
    expect(sink.delivered.map((d) => [d.stream, d.message])).toEqual([['get-1', progress('p1')]]);
  });

  describe('server-initiated messages', () => {
    const ping = request('srv-1', 'ping');

    it('go to the attached stream first', async () => {
      const { backend, sink, session } = setup({ attached: 'get-1' });
      session.fromClient(request(1, 'resources/list'), 'post-a');
      backend.emit(ping);
      await settle();
      expect(sink.delivered).toEqual([{ stream: 'get-1', sessionId: 'sess-1', message: ping }]);
    });

    it('go to the newest request stream when none is attached', async () => {
      const { backend, sink, session } = setup();
      session.fromClient(request(1, 'resources/list'), 'post-a');
      session.fromClient(request(2, 'resources/list'), 'post-b');
      backend.emit(ping);
      await settle();
      expect(sink.delivered.map((d) => d.stream)).toEqual(['post-b']);
    });

    it('skip a stream that refuses delivery', async () => {
      const { backend, sink, session } = setup({ attached: 'get-1' });
      sink.refusing.add('get-1');
      session.fromClient(request(1, 'resources/list'), 'post-a');
      backend.emit(ping);
      await settle();
      expect(sink.attempts).toEqual(['get-1', 'post-a']);
      expect(sink.delivered.map((d) => d.stream)).toEqual(['post-a']);
    });

    it('stop trying an attached stream once it refused', async () => {
      const { backend, sink, session } = setup({ attached: 'get-1' });
      sink.refusing.add('get-1');
      session.fromClient(request(1, 'resources/list'), 'post-a');
      backend.emit(ping);
      await settle();
      backend.emit(notification('notifications/message'));
      await settle();
      expect(sink.attempts).toEqual(['get-1', 'post-a', 'post-a']);
    });

    it('are buffered while no stream is open and flushed in order on attach', async () => {
      const { backend, sink, session } = setup();
      const messages = [notification('notifications/a'), notification('notifications/b'), ping];
      for (const m of messages) backend.emit(m);
      await settle();
      expect(sink.delivered).toEqual([]);
      session.touch('get-1', undefined);
      await settle();
      expect(sink.delivered.map((d) => [d.stream, d.message])).toEqual(messages.map((m) => ['get-1', m]));
    });

    it('moves a message refused by the old stream to a stream attached meanwhile, in order', async () => {
      const { backend, sink, session } = setup({ attached: 'get-old' });
      let refuseOld: (ok: boolean) => void = () => undefined;
      const deliver = sink.deliver.bind(sink);
      sink.deliver = (stream, sessionId, message) =>
        stream === 'get-old' ? new Promise((resolve) => (refuseOld = resolve)) : deliver(stream, sessionId, message);
      const [a, b] = [notification('notifications/a'), notification('notifications/b')];
      backend.emit(a);
      await settle();
      session.touch('get-new', 'get-old');
      backend.emit(b);
      refuseOld(false);
      await settle();
      expect(sink.delivered.map((d) => [d.stream, d.message])).toEqual([
        ['get-new', a],
        ['get-new', b],
      ]);
    });
  });

  describe('tool filter', () => {
    it('hides blocked tools from a tools/list response', () => {
      const { backend, sink, session } = setup({ toolFilter: { mode: 'block', list: ['delete_file'] } });
      session.fromClient(request(1, 'tools/list'), 'post-a');
      backend.emit(result(1, { tools: [{ name: 'read_file' }, { name: 'delete_file' }], nextCursor: 'c' }));
      expect(sink.published.map((p) => p.message)).toEqual([result(1, { tools: [{ name: 'read_file' }], nextCursor: 'c' })]);
    });

    it('refuses tools/call of a hidden tool without forwarding it', () => {
      const { backend, sink, session } = setup({ toolFilter: { mode: 'allow', list: ['read_file'] } });
      session.fromClient(request(7, 'tools/call', { name: 'delete_file' }), 'post-a');
      expect(backend.sent).toEqual([]);
      expect(sink.published).toEqual([
        {
          stream: 'post-a',
          sessionId: 'sess-1',
          message: { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Tool delete_file is not available' } },
        },
      ]);
    });

    it('forwards tools/call of a visible tool', () => {
      const { backend, sink, session } = setup({ toolFilter: { mode: 'allow', list: ['read_file'] } });
      session.fromClient(request(7, 'tools/call', { name: 'read_file' }), 'post-a');
      expect(backend.sent).toEqual([request(7, 'tools/call', { name: 'read_file' })]);
      expect(sink.published).toEqual([]);
    });
  });
});
