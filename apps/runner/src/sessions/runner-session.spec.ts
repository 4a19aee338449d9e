import { PassThrough } from 'node:stream';
import type { JsonRpcMessage, RequestId, StreamMessage } from '#contracts';
import { createLogger } from '#observability';
import { nextTurn } from '#testing';
import type { BackendConnection } from '../backends/backend.port.js';
import { ReplayLog } from './replay-log.js';
import { RunnerSession } from './runner-session.js';
import { SessionOutbound } from './session-outbound.js';
import type { StreamSink } from './stream-sink.port.js';
import { ToolFilter, type ToolFilterConfig } from './tool-filter.js';

class FakeBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  readonly sent: JsonRpcMessage[] = [];
  closes = 0;
  started = 0;
  start(): Promise<void> {
    this.started += 1;
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

type Sent = { subject: string; event: StreamMessage };

class RecordingSink implements StreamSink {
  readonly published: Sent[] = [];
  readonly delivered: Sent[] = [];
  readonly attempts: string[] = [];
  readonly refusing = new Set<string>();
  publish(subject: string, event: StreamMessage): number {
    this.published.push({ subject, event });
    return JSON.stringify(event).length;
  }
  deliver(subject: string, event: StreamMessage): Promise<boolean> {
    this.attempts.push(subject);
    if (this.refusing.has(subject)) return Promise.resolve(false);
    this.delivered.push({ subject, event });
    return Promise.resolve(true);
  }
}

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const request = (id: RequestId, method: string, params?: object): JsonRpcMessage => ({ jsonrpc: '2.0', id, method, params });
const result = (id: RequestId, value: object = {}): JsonRpcMessage => ({ jsonrpc: '2.0', id, result: value });
const notification = (method: string, params?: object): JsonRpcMessage => ({ jsonrpc: '2.0', method, params });
const progress = (progressToken: RequestId) => notification('notifications/progress', { progressToken, progress: 1 });
const stream = (id: string) => `gh.edge.e1.stream.${id}`;
const initialize = { jsonrpc: '2.0' as const, id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } };

function setup(options: { toolFilter?: ToolFilterConfig; legacy?: boolean; replay?: { messages: number; bytes: number } } = {}) {
  const backend = new FakeBackend();
  const sink = new RecordingSink();
  const ended: string[] = [];
  const replay = options.legacy ? undefined : new ReplayLog(options.replay ?? { messages: 100, bytes: 1_000_000 });
  const outbound = new SessionOutbound('sess-1', sink, log, replay, options.legacy ? stream('legacy') : undefined);
  const transport = options.legacy ? ('sse' as const) : ('streamable-http' as const);
  const session = new RunnerSession({ id: 'sess-1', sub: 'alice', server: 'files', transport }, backend, outbound, {
    toolFilter: new ToolFilter(options.toolFilter),
    audit: () => undefined,
    log,
    now: () => 0,
    startTimeoutMs: 1000,
    onEnded: (_: RunnerSession, reason: string) => ended.push(reason),
  });
  return { backend, sink, session, ended, replay };
}

/** A session past initialize, as the pool hands it out. */
async function opened(options: Parameters<typeof setup>[0] = {}) {
  const parts = setup(options);
  const opening = parts.session.open(initialize);
  await nextTurn();
  parts.backend.emit(result(0));
  await opening;
  parts.backend.sent.length = 0;
  return parts;
}

/** What went to each subject, as [subject, event id, message or 'end']. */
/** What each stream received, in order: a message, then `end` where the stream ended (with it, in the same event, or alone). */
function trace(sent: Sent[]): [string, string | undefined, JsonRpcMessage | 'end'][] {
  return sent.flatMap(({ subject, event }): [string, string | undefined, JsonRpcMessage | 'end'][] => [
    ...(event.message ? [[subject, event.eventId, event.message] as [string, string | undefined, JsonRpcMessage]] : []),
    ...(event.end ? [[subject, undefined, 'end'] as [string, undefined, 'end']] : []),
  ]);
}

describe('RunnerSession', () => {
  describe('open', () => {
    it('relays initialize to the backend and resolves with its answer', async () => {
      const { backend, sink, session } = setup();
      const opening = session.open(initialize);
      await nextTurn();
      expect(backend.sent).toEqual([initialize]);
      backend.emit(result(0, { protocolVersion: '2025-06-18' }));
      await expect(opening).resolves.toEqual(result(0, { protocolVersion: '2025-06-18' }));
      expect(sink.published).toEqual([]);
    });

    it('rejects with the reason when the backend exits during initialize', async () => {
      const { backend, session } = setup();
      const opening = session.open(initialize);
      await nextTurn();
      backend.onclose?.('the backend exited (code 1)');
      await expect(opening).rejects.toThrow('the backend exited (code 1)');
    });
  });

  it('ends once, calling onEnded once, when the backend closes by itself', async () => {
    const { backend, session, ended } = await opened();
    backend.onclose?.('the backend exited (code 0)');
    backend.onclose?.('the backend exited (code 0)');
    await session.end('closed');
    expect(ended).toEqual(['the backend exited (code 0)']);
    expect(backend.closes).toBe(1);
    expect(session.isEnded).toBe(true);
  });

  describe('request streams', () => {
    it('sends a response to the stream of its request with an event id, then ends that stream', async () => {
      const { backend, sink, session } = await opened();
      session.fromClient([request(1, 'resources/list')], stream('a'));
      session.fromClient([request(2, 'resources/list')], stream('b'));
      backend.emit(result(2));
      backend.emit(result(1));
      expect(trace(sink.published)).toEqual([
        [stream('b'), 'b.1', result(2)],
        [stream('b'), undefined, 'end'],
        [stream('a'), 'a.1', result(1)],
        [stream('a'), undefined, 'end'],
      ]);
      // The last answer and the end of its stream travel as one bus message.
      expect(sink.published.map(({ event }) => event.end)).toEqual([true, true]);
    });

    it('ends a batch stream only once every request on it is answered', async () => {
      const { backend, sink, session } = await opened();
      session.fromClient([request(1, 'ping'), notification('notifications/initialized'), request(2, 'ping')], stream('a'));
      expect(backend.sent).toHaveLength(3);
      backend.emit(result(1));
      expect(trace(sink.published)).toEqual([[stream('a'), 'a.1', result(1)]]);
      backend.emit(result(2));
      expect(trace(sink.published).slice(1)).toEqual([
        [stream('a'), 'a.2', result(2)],
        [stream('a'), undefined, 'end'],
      ]);
    });

    it('cancels: ends the stream of the cancelled request at once, forwards the cancel, drops the late response', async () => {
      const { backend, sink, session } = await opened();
      session.fromClient([request(1, 'tools/call')], stream('a'));
      const cancel = notification('notifications/cancelled', { requestId: 1 });
      // The cancel may arrive through another edge, with no stream at all.
      session.fromClient([cancel], undefined);
      backend.emit(result(1));
      expect(backend.sent).toEqual([request(1, 'tools/call'), cancel]);
      expect(trace(sink.published)).toEqual([[stream('a'), undefined, 'end']]);
    });

    it('refuses a request whose id is already in flight, and still answers the first', async () => {
      const { backend, sink, session } = await opened();
      session.fromClient([request(1, 'tools/call')], stream('a'));
      session.fromClient([request(1, 'tools/call')], stream('b'));
      expect(backend.sent).toEqual([request(1, 'tools/call')]);
      const refusal = {
        jsonrpc: '2.0',
        id: 1,
        error: { code: -32600, message: 'Invalid Request: a request with id 1 is already in flight in this session' },
      };
      expect(trace(sink.published)).toEqual([
        [stream('b'), 'b.1', refusal],
        [stream('b'), undefined, 'end'],
      ]);
      backend.emit(result(1));
      expect(trace(sink.published).slice(2)).toEqual([
        [stream('a'), 'a.1', result(1)],
        [stream('a'), undefined, 'end'],
      ]);
    });

    it("sends progress carrying a request's progressToken to that request's stream", async () => {
      const { backend, sink, session } = await opened();
      session.attach(stream('get'), undefined);
      session.fromClient([request(1, 'tools/call', { name: 'a', _meta: { progressToken: 'p1' } })], stream('a'));
      session.fromClient([request(2, 'tools/call', { name: 'b', _meta: { progressToken: 'p2' } })], stream('b'));
      backend.emit(progress('p2'));
      backend.emit(progress('p1'));
      await nextTurn();
      expect(trace(sink.published)).toEqual([
        [stream('b'), 'b.1', progress('p2')],
        [stream('a'), 'a.1', progress('p1')],
      ]);
      expect(sink.delivered).toEqual([]);
    });

    it('treats progress after the response as server-initiated', async () => {
      const { backend, sink, session } = await opened();
      session.attach(stream('get'), undefined);
      session.fromClient([request(1, 'tools/call', { name: 'a', _meta: { progressToken: 'p1' } })], stream('a'));
      backend.emit(result(1));
      backend.emit(progress('p1'));
      await nextTurn();
      expect(trace(sink.delivered)).toEqual([[stream('get'), 'get.1', progress('p1')]]);
    });

    it('answers every request in flight with an error when the session ends, then ends their streams', async () => {
      const { sink, session, ended } = await opened();
      session.fromClient([request(1, 'tools/call')], stream('a'));
      session.fromClient([request('x', 'tools/call')], stream('b'));
      await session.end('idle timeout');
      const error = (id: RequestId) => ({ jsonrpc: '2.0', id, error: { code: -32000, message: 'Session ended: idle timeout' } });
      expect(trace(sink.published)).toEqual([
        [stream('a'), 'a.1', error(1)],
        [stream('b'), 'b.1', error('x')],
        [stream('a'), undefined, 'end'],
        [stream('b'), undefined, 'end'],
      ]);
      expect(ended).toEqual(['idle timeout']);
    });
  });

  describe('resumable streams', () => {
    it('replays what a dropped request stream missed to the stream that resumes it, which then carries the rest', async () => {
      const { backend, sink, session } = await opened();
      session.fromClient([request(1, 'tools/call', { name: 'a', _meta: { progressToken: 'p' } })], stream('a'));
      backend.emit(progress('p'));
      backend.emit(progress('p'));
      // The client saw a.1 only; it resumes on another edge's stream.
      session.attach(stream('r'), 'a.1');
      backend.emit(result(1));
      expect(trace(sink.published).slice(2)).toEqual([
        [stream('r'), 'a.2', progress('p')],
        [stream('r'), 'a.3', result(1)],
        [stream('r'), undefined, 'end'],
      ]);
    });

    it('ends a resumed stream after the replay when its requests are all answered', async () => {
      const { backend, sink, session } = await opened();
      session.fromClient([request(1, 'ping')], stream('a'));
      backend.emit(result(1));
      sink.published.length = 0;
      session.attach(stream('r'), 'a.0');
      expect(trace(sink.published)).toEqual([
        [stream('r'), 'a.1', result(1)],
        [stream('r'), undefined, 'end'],
      ]);
    });

    it('ends at once a resumed stream it knows nothing of', async () => {
      const { sink, session } = await opened();
      session.attach(stream('r'), 'nope.3');
      expect(trace(sink.published)).toEqual([[stream('r'), undefined, 'end']]);
    });

    it('gives a new standalone stream the event id to prime with, and replays it from there on resume', async () => {
      const { backend, sink, session } = await opened();
      expect(session.attach(stream('g1'), undefined)).toBe('get.0');
      backend.emit(notification('notifications/a'));
      backend.emit(notification('notifications/b'));
      await nextTurn();
      expect(trace(sink.delivered)).toEqual([
        [stream('g1'), 'get.1', notification('notifications/a')],
        [stream('g1'), 'get.2', notification('notifications/b')],
      ]);
      session.detach(stream('g1'));
      expect(session.attach(stream('g2'), 'get.1')).toBeUndefined();
      expect(trace(sink.published)).toEqual([[stream('g2'), 'get.2', notification('notifications/b')]]);
    });

    it('forgets the streams of answered POSTs once their events have left the log', async () => {
      const { backend, session, replay } = await opened({ replay: { messages: 2, bytes: 1_000_000 } });
      for (let id = 1; id <= 50; id++) {
        session.fromClient([request(id, 'ping')], stream(`s${id}`));
        backend.emit(result(id));
      }
      expect(replay?.size).toBe(2);
      expect(replay?.streamCount).toBe(2);
    });

    it('replays only what the bounded log still holds', async () => {
      const { backend, sink, session } = await opened({ replay: { messages: 2, bytes: 1_000_000 } });
      session.fromClient([request(1, 'tools/call', { name: 'a', _meta: { progressToken: 'p' } })], stream('a'));
      for (let i = 0; i < 4; i++) backend.emit(progress('p'));
      sink.published.length = 0;
      session.attach(stream('r'), 'a.0');
      expect(trace(sink.published).map(([, id]) => id)).toEqual(['a.3', 'a.4']);
    });
  });

  describe('server-initiated messages', () => {
    const ping = request('srv-1', 'ping');

    it('go to the attached standalone stream first', async () => {
      const { backend, sink, session } = await opened();
      session.attach(stream('get'), undefined);
      session.fromClient([request(1, 'resources/list')], stream('a'));
      backend.emit(ping);
      await nextTurn();
      expect(trace(sink.delivered)).toEqual([[stream('get'), 'get.1', ping]]);
    });

    it('go to the newest request stream when none is attached', async () => {
      const { backend, sink, session } = await opened();
      session.fromClient([request(1, 'resources/list')], stream('a'));
      session.fromClient([request(2, 'resources/list')], stream('b'));
      backend.emit(ping);
      await nextTurn();
      expect(trace(sink.delivered)).toEqual([[stream('b'), 'b.1', ping]]);
    });

    it('skip a stream that refuses delivery, and stop trying it', async () => {
      const { backend, sink, session } = await opened();
      session.attach(stream('get'), undefined);
      sink.refusing.add(stream('get'));
      session.fromClient([request(1, 'resources/list')], stream('a'));
      backend.emit(ping);
      await nextTurn();
      backend.emit(notification('notifications/message'));
      await nextTurn();
      expect(sink.attempts).toEqual([stream('get'), stream('a'), stream('a')]);
    });

    it('are held while no stream is open and flushed in order on attach', async () => {
      const { backend, sink, session } = await opened();
      const messages = [notification('notifications/a'), notification('notifications/b'), ping];
      for (const m of messages) backend.emit(m);
      await nextTurn();
      expect(sink.delivered).toEqual([]);
      session.attach(stream('get'), undefined);
      await nextTurn();
      expect(sink.delivered.map((d) => [d.subject, d.event.message])).toEqual(messages.map((m) => [stream('get'), m]));
    });
  });

  describe('legacy SSE', () => {
    it('refuses anything before initialize, then starts the backend with it and answers on the stream', async () => {
      const { backend, sink, session } = setup({ legacy: true });
      session.fromClient([request(1, 'tools/list')], undefined);
      expect(backend.started).toBe(0);
      session.fromClient([initialize], undefined);
      await nextTurn();
      expect(backend.sent).toEqual([initialize]);
      backend.emit(result(0));
      await nextTurn();
      session.fromClient([request(2, 'tools/list')], undefined);
      backend.emit(result(2));
      expect(trace(sink.published)).toEqual([
        [
          stream('legacy'),
          undefined,
          { jsonrpc: '2.0', id: 1, error: { code: -32600, message: 'Bad Request: initialize the session first' } },
        ],
        [stream('legacy'), undefined, result(0)],
        [stream('legacy'), undefined, result(2)],
      ]);
    });
  });

  describe('tool filter', () => {
    it('hides blocked tools from a tools/list response', async () => {
      const { backend, sink, session } = await opened({ toolFilter: { mode: 'block', list: ['delete_file'] } });
      session.fromClient([request(1, 'tools/list')], stream('a'));
      backend.emit(result(1, { tools: [{ name: 'read_file' }, { name: 'delete_file' }], nextCursor: 'c' }));
      expect(sink.published[0]?.event.message).toEqual(result(1, { tools: [{ name: 'read_file' }], nextCursor: 'c' }));
    });

    it('refuses tools/call of a hidden tool without forwarding it', async () => {
      const { backend, sink, session } = await opened({ toolFilter: { mode: 'allow', list: ['read_file'] } });
      session.fromClient([request(7, 'tools/call', { name: 'delete_file' })], stream('a'));
      expect(backend.sent).toEqual([]);
      expect(trace(sink.published)).toEqual([
        [stream('a'), 'a.1', { jsonrpc: '2.0', id: 7, error: { code: -32602, message: 'Tool delete_file is not available' } }],
        [stream('a'), undefined, 'end'],
      ]);
    });
  });
});
