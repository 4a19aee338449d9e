import { BusPayloadTooLargeError, type Bus } from '#bus';
import {
  DeliveryReplySchema,
  StreamMessageSchema,
  decode,
  encode,
  errorResponse,
  isResponse,
  JsonRpcCode,
  type JsonRpcMessage,
} from '#contracts';
import type { Logger } from '#observability';
import type { StreamSink } from './stream-sink.port.js';

/** How long an edge has to take a server-initiated message before the runner buffers it. */
const DELIVERY_TIMEOUT_MS = 2000;

/**
 * Streams over the bus. A message larger than the bus carries never crashes the runner: a
 * response is replaced by a JSON-RPC error saying so, anything else is dropped and logged.
 */
export class BusStreamSink implements StreamSink {
  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  publish(stream: string, sessionId: string, message: JsonRpcMessage): void {
    try {
      this.bus.publish(stream, encode(StreamMessageSchema, { sessionId, message }));
    } catch (err) {
      if (!(err instanceof BusPayloadTooLargeError)) throw err;
      this.tooLarge(sessionId, message, err);
      if (isResponse(message)) {
        const refusal = errorResponse(message.id, JsonRpcCode.serverError, tooLargeText(err));
        this.bus.publish(stream, encode(StreamMessageSchema, { sessionId, message: refusal }));
      }
    }
  }

  async deliver(stream: string, sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    let reply;
    try {
      reply = await this.bus.request(stream, encode(StreamMessageSchema, { sessionId, message }), { timeoutMs: DELIVERY_TIMEOUT_MS });
    } catch (err) {
      if (!(err instanceof BusPayloadTooLargeError)) throw err;
      // Taken as handled: it could never be delivered, and must not block the messages behind it.
      this.tooLarge(sessionId, message, err);
      return true;
    }
    const decoded = decode(DeliveryReplySchema, reply.data);
    return decoded.ok && decoded.value.delivered;
  }

  private tooLarge(sessionId: string, message: JsonRpcMessage, err: BusPayloadTooLargeError): void {
    const kind = isResponse(message) ? 'response' : (message.method ?? 'message');
    this.log.warn({ sessionId, kind, size: err.size, limit: err.limit }, 'backend message too large for the bus; not delivered');
  }
}

function tooLargeText(err: BusPayloadTooLargeError): string {
  return `The backend's response (${err.size} bytes) is larger than the gateway's message bus carries (${err.limit} bytes)`;
}
