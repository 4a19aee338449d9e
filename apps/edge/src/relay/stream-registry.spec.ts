import { PassThrough } from 'node:stream';
import { LocalBus } from '#bus';
import { decode, DeliveryReplySchema, encode, StreamMessageSchema, type JsonRpcMessage, type StreamMessage } from '#contracts';
import { createLogger } from '#observability';
import { StreamRegistry, type StreamEndpoint } from './stream-registry.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });

/** An endpoint that records what it is given, as `message` or `end`. */
function recorder(sessionId = 's1'): StreamEndpoint & { got: (JsonRpcMessage | 'end')[] } {
  const got: (JsonRpcMessage | 'end')[] = [];
  return {
    sessionId,
    got,
    write: (message) => got.push(message) > 0,
    end: () => void got.push('end'),
    sessionEnded: () => undefined,
  };
}

const result = (id: number): JsonRpcMessage => ({ jsonrpc: '2.0', id, result: {} });
const progress: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };
const sampling: JsonRpcMessage = { jsonrpc: '2.0', id: 'srv-1', method: 'sampling/createMessage' };

describe('StreamRegistry', () => {
  let bus: LocalBus;
  let registry: StreamRegistry;
  beforeEach(() => {
    bus = new LocalBus();
    registry = new StreamRegistry(bus, 'e1', log);
    registry.start();
  });
  afterEach(async () => {
    registry.stop();
    await bus.close();
  });

  it('holds what the stream brings until the reply is written, then writes the reply first, and answers a delivery as it went', async () => {
    const endpoint = recorder();
    const stream = registry.open(endpoint, 'k1', { afterReply: true });
    // From the network (copied bytes), as over NATS.
    bus.publish(stream.subject, encode(StreamMessageSchema, { sessionId: 's1', message: progress }).slice());
    const delivery = bus.request(stream.subject, encode(StreamMessageSchema, { sessionId: 's1', message: sampling }).slice(), {
      timeoutMs: 2000,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(endpoint.got).toEqual([]);
    const first: StreamMessage[] = [{ sessionId: 's1', eventId: 'k1.1', message: result(1) }];
    stream.replied(first);
    expect(endpoint.got).toEqual([result(1), progress, sampling]);
    expect(decode(DeliveryReplySchema, (await delivery).data)).toEqual({ ok: true, value: { delivered: true } });
    // Once only; afterwards the stream writes at once.
    stream.replied(first);
    bus.publish(stream.subject, encode(StreamMessageSchema, { sessionId: 's1', message: result(2), end: true }).slice());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(endpoint.got).toEqual([result(1), progress, sampling, result(2), 'end']);
  });

  it('writes at once to a stream opened without afterReply', async () => {
    const endpoint = recorder();
    const stream = registry.open(endpoint, 'k2');
    bus.publish(stream.subject, encode(StreamMessageSchema, { sessionId: 's1', message: result(3), end: true }).slice());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(endpoint.got).toEqual([result(3), 'end']);
  });
});
