import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { LocalBus, type BusMessage } from '#bus';
import {
  DeliveryReplySchema,
  StreamMessageSchema,
  decode,
  encode,
  type JsonRpcMessage,
  type StreamMessage,
  keepMessageText,
} from '#contracts';
import { createLogger } from '#observability';
import { fuzzRun } from '#testing';
import { BusStreamSink, eventJson } from './bus-stream-sink.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const LIMIT = 4096;

async function received(bus: LocalBus, subject: string, count: number): Promise<JsonRpcMessage[]> {
  const messages: JsonRpcMessage[] = [];
  await new Promise<void>((resolve) => {
    bus.subscribe(subject, (msg: BusMessage) => {
      const decoded = decode(StreamMessageSchema, msg.data);
      if (decoded.ok && decoded.value.message) messages.push(decoded.value.message);
      msg.respond(encode(DeliveryReplySchema, { delivered: true }));
      if (messages.length === count) resolve();
    });
  });
  return messages;
}

describe('BusStreamSink', () => {
  let bus: LocalBus;
  beforeEach(() => {
    bus = new LocalBus({ maxPayloadBytes: LIMIT });
  });
  afterEach(() => bus.close());

  it('replaces a response too large for the bus with a JSON-RPC error for the same id', async () => {
    const sink = new BusStreamSink(bus, log);
    const got = received(bus, 'stream.a', 2);
    sink.publish('stream.a', { sessionId: 's1', eventId: 'a.1', message: { jsonrpc: '2.0', id: 7, result: { text: 'x'.repeat(LIMIT) } } });
    sink.publish('stream.a', { sessionId: 's1', message: { jsonrpc: '2.0', id: 8, result: { text: 'small' } } });
    const [first, second] = await got;
    expect(first).toEqual({ jsonrpc: '2.0', id: 7, error: { code: -32000, message: expect.stringContaining('larger than') } });
    expect(second).toEqual({ jsonrpc: '2.0', id: 8, result: { text: 'small' } });
  });

  it('drops a server-initiated message too large for the bus without blocking the next one', async () => {
    const sink = new BusStreamSink(bus, log);
    const got = received(bus, 'stream.b', 1);
    await expect(
      sink.deliver('stream.b', {
        sessionId: 's1',
        message: { jsonrpc: '2.0', method: 'notifications/big', params: { text: 'x'.repeat(LIMIT) } },
      }),
    ).resolves.toBe(true);
    await expect(sink.deliver('stream.b', { sessionId: 's1', message: { jsonrpc: '2.0', method: 'notifications/small' } })).resolves.toBe(
      true,
    );
    expect(await got).toEqual([{ jsonrpc: '2.0', method: 'notifications/small' }]);
  });

  describe('hold', () => {
    const result = (id: number, text = 'ok'): JsonRpcMessage => ({ jsonrpc: '2.0', id, result: { text } });
    const progress: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };

    it('gives the held events to release once the stream ends, publishing nothing', async () => {
      const sink = new BusStreamSink(bus, log);
      const published: unknown[] = [];
      bus.subscribe('stream.h', (msg) => void published.push(msg.subject));
      const released: StreamMessage[][] = [];
      const texts: string[][] = [];
      sink.hold('stream.h', 10_000, (held) => released.push(held.events) > 0 && texts.push(held.texts) > 0);
      const progressBytes = sink.publish('stream.h', { sessionId: 's1', eventId: 'h.1', message: progress });
      sink.publish('stream.h', { sessionId: 's1', eventId: 'h.2', message: result(1), end: true });
      expect(progressBytes).toBe(encode(StreamMessageSchema, { sessionId: 's1', eventId: 'h.1', message: progress }).byteLength);
      expect(released).toEqual([
        [
          { sessionId: 's1', eventId: 'h.1', message: progress },
          { sessionId: 's1', eventId: 'h.2', message: result(1), end: true },
        ],
      ]);
      expect(texts).toEqual([released[0]?.map((event) => JSON.stringify(event))]);
      // Held no more: the next event is published.
      const got = received(bus, 'stream.h', 1);
      sink.publish('stream.h', { sessionId: 's1', message: result(2) });
      expect(await got).toEqual([result(2)]);
      expect(published).toEqual(['stream.h']);
    });

    it('lets go when the time is up, and publishes what release does not carry, in order', async () => {
      const sink = new BusStreamSink(bus, log);
      const released: StreamMessage[][] = [];
      sink.hold('stream.t', 20, ({ events }) => {
        released.push(events);
        return false;
      });
      const got = received(bus, 'stream.t', 2);
      sink.publish('stream.t', { sessionId: 's1', message: progress });
      sink.publish('stream.t', { sessionId: 's1', message: result(3) });
      expect(await got).toEqual([progress, result(3)]);
      expect(released).toEqual([
        [
          { sessionId: 's1', message: progress },
          { sessionId: 's1', message: result(3) },
        ],
      ]);
    });

    it('lets go before a server-initiated message on the stream, which keeps its place behind them', async () => {
      const sink = new BusStreamSink(bus, log);
      const released: StreamMessage[][] = [];
      sink.hold('stream.d', 10_000, ({ events }) => released.push(events) > 0);
      sink.publish('stream.d', { sessionId: 's1', message: progress });
      const got = received(bus, 'stream.d', 1);
      const request: JsonRpcMessage = { jsonrpc: '2.0', id: 'srv-1', method: 'sampling/createMessage' };
      await expect(sink.deliver('stream.d', { sessionId: 's1', message: request })).resolves.toBe(true);
      expect(released).toEqual([[{ sessionId: 's1', message: progress }]]);
      expect(await got).toEqual([request]);
    });

    it('lets go early once what it holds passes half the bus payload', () => {
      const sink = new BusStreamSink(bus, log);
      const released: StreamMessage[][] = [];
      sink.hold('stream.b', 10_000, ({ events }) => released.push(events) > 0);
      sink.publish('stream.b', { sessionId: 's1', message: result(1, 'x'.repeat(LIMIT / 2)) });
      expect(released).toHaveLength(1);
    });
  });

  describe('a message as a backend sent it', () => {
    /** `message` parsed from a text laid out otherwise than JSON.stringify would, as a backend's line reader keeps it. */
    function fromBackend(message: JsonRpcMessage): { message: JsonRpcMessage; text: string } {
      const text = JSON.stringify(message, null, 1).replaceAll('\n', ' ');
      const parsed = JSON.parse(text) as JsonRpcMessage;
      keepMessageText(parsed, text);
      return { message: parsed, text };
    }
    const event = fc.record(
      {
        sessionId: fc.string(),
        eventId: fc.string(),
        message: fc.record({ jsonrpc: fc.constant('2.0' as const), id: fc.integer(), result: fc.dictionary(fc.string(), fc.jsonValue()) }),
        end: fc.constant(true as const),
      },
      { requiredKeys: ['sessionId', 'message'] },
    );

    it('is carried as the text it came in, which parses to what JSON.stringify of the event would', () => {
      fc.assert(
        fc.property(event, (made) => {
          const { message, text } = fromBackend(made.message);
          const json = eventJson({ ...made, message });
          expect(json).toContain(text);
          expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify({ ...made, message })));
        }),
        fuzzRun(500),
      );
    });

    it('is stringified when the runner made it, or made it anew', () => {
      const { message, text } = fromBackend({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
      const anew = { ...message };
      expect(eventJson({ sessionId: 's1', message: anew })).toBe(JSON.stringify({ sessionId: 's1', message: anew }));
      expect(eventJson({ sessionId: 's1', end: true })).toBe('{"sessionId":"s1","end":true}');
      expect(eventJson({ sessionId: 's1', message })).toContain(text);
    });

    it('reaches the stream, published, held and delivered, as the message it was', async () => {
      const sink = new BusStreamSink(bus, log);
      const answer = fromBackend({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'a "quoted" é' }] } }).message;
      const request = fromBackend({ jsonrpc: '2.0', id: 'srv-1', method: 'roots/list' }).message;
      const got = received(bus, 'stream.e', 2);
      sink.publish('stream.e', { sessionId: 's1', eventId: 'e.1', message: answer });
      await expect(sink.deliver('stream.e', { sessionId: 's1', message: request })).resolves.toBe(true);
      expect(await got).toEqual([answer, request]);
      const released: string[][] = [];
      sink.hold('stream.f', 10_000, ({ texts }) => released.push(texts) > 0);
      sink.publish('stream.f', { sessionId: 's1', message: answer, end: true });
      expect(released).toEqual([[eventJson({ sessionId: 's1', message: answer, end: true })]]);
    });
  });
});
