import { BusPayloadTooLargeError, type Bus } from '#bus';
import {
  DeliveryReplySchema,
  StreamMessageSchema,
  decode,
  encode,
  encodeJson,
  errorResponse,
  isResponse,
  JsonRpcCode,
  type StreamMessage,
  messageText,
} from '#contracts';
import type { Logger } from '#observability';
import type { HeldEvents, StreamSink } from './stream-sink.port.js';

/** How long an edge has to take a server-initiated message before the runner buffers it. */
const DELIVERY_TIMEOUT_MS = 2000;

/** Events kept for a reply (see `hold`). */
interface Hold extends HeldEvents {
  bytes: number;
  timer: NodeJS.Timeout;
  release: (held: HeldEvents) => boolean;
}

/**
 * Streams over the bus. A message larger than the bus carries never crashes the runner: a
 * response is replaced by a JSON-RPC error saying so, anything else is dropped and logged.
 */
export class BusStreamSink implements StreamSink {
  private readonly holds = new Map<string, Hold>();

  constructor(
    private readonly bus: Bus,
    private readonly log: Logger,
  ) {}

  hold(subject: string, ms: number, release: (held: HeldEvents) => boolean): void {
    this.letGo(subject);
    const timer = setTimeout(() => {
      try {
        this.letGo(subject);
      } catch (err) {
        // A timer's throw would be the process's: the bus is closing, and nothing more can be sent.
        this.log.warn({ err, subject }, 'could not send the held stream events');
      }
    }, ms).unref();
    this.holds.set(subject, { events: [], texts: [], bytes: 0, release, timer });
  }

  publish(subject: string, event: StreamMessage): number {
    const hold = this.holds.get(subject);
    if (!hold) return this.send(subject, event);
    // Its size as a message of its own: what the replay log counts, whichever way it leaves. Its
    // text is kept for the reply, which joins the texts instead of stringifying the events again.
    const text = eventJson(event);
    const bytes = Buffer.byteLength(text);
    hold.events.push(event);
    hold.texts.push(text);
    hold.bytes += bytes;
    if (event.end === true || hold.bytes > this.bus.maxPayloadBytes / 2) this.letGo(subject);
    return bytes;
  }

  private letGo(subject: string): void {
    const hold = this.holds.get(subject);
    if (!hold) return;
    this.holds.delete(subject);
    clearTimeout(hold.timer);
    let carried = false;
    try {
      carried = hold.release(hold);
    } catch (err) {
      this.log.warn({ err, subject }, 'could not answer with the held stream events; publishing them');
    }
    if (!carried) for (const event of hold.events) this.send(subject, event);
  }

  private send(subject: string, event: StreamMessage): number {
    const payload = encodeJson(StreamMessageSchema, event, eventJson(event));
    try {
      this.bus.publish(subject, payload);
      return payload.byteLength;
    } catch (err) {
      if (!(err instanceof BusPayloadTooLargeError) || !event.message) throw err;
      this.tooLarge(event, err);
      if (!isResponse(event.message)) return 0;
      const refusal = encode(StreamMessageSchema, {
        ...event,
        message: errorResponse(event.message.id, JsonRpcCode.serverError, tooLargeText(err)),
      });
      this.bus.publish(subject, refusal);
      return refusal.byteLength;
    }
  }

  async deliver(subject: string, event: StreamMessage): Promise<boolean> {
    // What is held for this stream goes first, so the stream keeps its order.
    this.letGo(subject);
    let reply;
    try {
      reply = await this.bus.request(subject, encodeJson(StreamMessageSchema, event, eventJson(event)), { timeoutMs: DELIVERY_TIMEOUT_MS });
    } catch (err) {
      if (!(err instanceof BusPayloadTooLargeError)) throw err;
      // Taken as handled: it could never be delivered, and must not block the messages behind it.
      this.tooLarge(event, err);
      return true;
    }
    const decoded = decode(DeliveryReplySchema, reply.data);
    return decoded.ok && decoded.value.delivered;
  }

  private tooLarge(event: StreamMessage, err: BusPayloadTooLargeError): void {
    const kind = event.message && isResponse(event.message) ? 'response' : (event.message?.method ?? 'message');
    this.log.warn(
      { sessionId: event.sessionId, kind, size: err.size, limit: err.limit },
      'backend message too large for the bus; not delivered',
    );
  }
}

// The members eventJson writes: one added to StreamMessage fails to compile here until it writes that too.
const WRITTEN: Record<keyof StreamMessage, true> = { sessionId: true, eventId: true, message: true, end: true };
void WRITTEN;

/**
 * The event's JSON: JSON.stringify's, except that a message whose text was kept (a backend's,
 * passed on unchanged: see `messageText`) is that text, which parses to the same message.
 */
export function eventJson(event: StreamMessage): string {
  const text = event.message && messageText(event.message);
  if (text === undefined) return JSON.stringify(event);
  const eventId = event.eventId === undefined ? '' : `,"eventId":${JSON.stringify(event.eventId)}`;
  return `{"sessionId":${JSON.stringify(event.sessionId)}${eventId},"message":${text}${event.end === true ? ',"end":true' : ''}}`;
}

function tooLargeText(err: BusPayloadTooLargeError): string {
  return `The backend's response (${err.size} bytes) is larger than the gateway's message bus carries (${err.limit} bytes)`;
}
