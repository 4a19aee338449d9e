import type { Bus, BusMessage, BusSubscription } from '#bus';
import {
  DeliveryReplySchema,
  StreamMessageSchema,
  decode,
  edgeStreamsWildcard,
  encode,
  streamIdOf,
  streamSubject,
  type JsonRpcMessage,
} from '#contracts';
import { randomId } from '#crypto';
import type { Logger } from '#observability';

// Encoded once: every message to a stream is answered with one of these.
const DELIVERED = encode(DeliveryReplySchema, { delivered: true });
const NOT_DELIVERED = encode(DeliveryReplySchema, { delivered: false });

/** An open HTTP stream on this edge that backend messages can be written to. */
export interface StreamEndpoint {
  readonly sessionId: string;
  /** Writes a message (with its SSE event id when the stream is resumable); false when the stream can no longer take it. */
  write(message: JsonRpcMessage, eventId: string | undefined): boolean;
  /** The runner says the stream carries nothing more. */
  end(): void;
  /** The session ended, or its runner is gone: fail what is pending and close. */
  sessionEnded(reason: string): void;
}

/** Streams held open by this edge, reached over one wildcard subscription. */
export class StreamRegistry {
  private readonly streams = new Map<string, StreamEndpoint>();
  private readonly bySession = new Map<string, Set<string>>();
  private subscription: BusSubscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly edgeId: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.subscription = this.bus.subscribe(edgeStreamsWildcard(this.edgeId), (m) => this.receive(m));
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  /** Registers a stream (under `streamId` when the caller chose it); returns its subject and a function that unregisters it. */
  open(endpoint: StreamEndpoint, streamId = randomId(12)): { subject: string; close: () => void } {
    this.streams.set(streamId, endpoint);
    const ids = this.bySession.get(endpoint.sessionId) ?? new Set<string>();
    ids.add(streamId);
    this.bySession.set(endpoint.sessionId, ids);
    const close = () => {
      this.streams.delete(streamId);
      ids.delete(streamId);
      if (ids.size === 0 && this.bySession.get(endpoint.sessionId) === ids) this.bySession.delete(endpoint.sessionId);
    };
    return { subject: streamSubject(this.edgeId, streamId), close };
  }

  /** Tells every stream of a session that it ended. */
  sessionEnded(sessionId: string, reason: string): void {
    const ids = this.bySession.get(sessionId);
    if (!ids) return;
    for (const id of [...ids]) this.streams.get(id)?.sessionEnded(reason);
  }

  get size(): number {
    return this.streams.size;
  }

  private receive(msg: BusMessage): void {
    const stream = this.streams.get(streamIdOf(msg.subject));
    const decoded = decode(StreamMessageSchema, msg.data);
    if (!decoded.ok) this.log.warn({ subject: msg.subject, error: decoded.error }, 'bad stream message');
    let delivered = false;
    if (stream && decoded.ok && stream.sessionId === decoded.value.sessionId) {
      const { message, eventId, end } = decoded.value;
      delivered = message === undefined || stream.write(message, eventId);
      if (end) stream.end();
    }
    msg.respond(delivered ? DELIVERED : NOT_DELIVERED);
  }
}
