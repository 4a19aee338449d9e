import type { Bus } from '#bus';
import { DeliveryReplySchema, StreamMessageSchema, decode, encode, type JsonRpcMessage } from '#contracts';
import type { StreamSink } from './stream-sink.port.js';

/** How long an edge has to take a server-initiated message before the runner buffers it. */
const DELIVERY_TIMEOUT_MS = 2000;

export class BusStreamSink implements StreamSink {
  constructor(private readonly bus: Bus) {}

  publish(stream: string, sessionId: string, message: JsonRpcMessage): void {
    this.bus.publish(stream, encode(StreamMessageSchema, { sessionId, message }));
  }

  async deliver(stream: string, sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    const reply = await this.bus.request(stream, encode(StreamMessageSchema, { sessionId, message }), {
      timeoutMs: DELIVERY_TIMEOUT_MS,
    });
    const decoded = decode(DeliveryReplySchema, reply.data);
    return decoded.ok && decoded.value.delivered;
  }
}
