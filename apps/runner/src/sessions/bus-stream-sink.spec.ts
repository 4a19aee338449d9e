import { PassThrough } from 'node:stream';
import { LocalBus, type BusMessage } from '#bus';
import { DeliveryReplySchema, StreamMessageSchema, decode, encode, type JsonRpcMessage } from '#contracts';
import { createLogger } from '#observability';
import { BusStreamSink } from './bus-stream-sink.js';

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
});
