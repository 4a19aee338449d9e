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
  type StreamMessage,
} from '#contracts';
import { randomKey } from '#crypto';
import type { Logger } from '#observability';

// Encoded once: every message to a stream is answered with one of these.
const DELIVERED = encode(DeliveryReplySchema, { delivered: true });
const NOT_DELIVERED = encode(DeliveryReplySchema, { delivered: false });

/** An open HTTP stream on this edge that backend messages can be written to. */
export interface StreamEndpoint {
  /**
   * The session the stream belongs to from the start, whose end fails it. Absent for a stream bound
   * later (`bind`): a POST's once its runner has taken the messages, a stateless call's once its
   * runner names the pooled session.
   */
  readonly sessionId?: string | undefined;
  /** Writes a message (with its SSE event id when the stream is resumable); false when the stream can no longer take it. */
  write(message: JsonRpcMessage, eventId: string | undefined): boolean;
  /** The runner says the stream carries nothing more. */
  end(): void;
  /** The session ended, or its runner is gone: fail what is pending and close. */
  sessionEnded(reason: string): void;
}

interface Entry {
  endpoint: StreamEndpoint;
  sessionId: string | undefined;
  /** What came on the stream before the reply to its request was written, with how to answer each. */
  early?: { event: StreamMessage; msg: BusMessage }[] | undefined;
}

/** An open stream: its subject, and how to unregister it, bind it to a session, and let through what waited for the reply. */
export interface OpenStream {
  subject: string;
  close: () => void;
  bind: (sessionId: string) => void;
  /** With `afterReply`: the reply's events (the stream's first), then what the stream brought meanwhile. */
  replied: (events: readonly StreamMessage[]) => void;
}

/** Streams held open by this edge, reached over one wildcard subscription. */
export class StreamRegistry {
  private readonly streams = new Map<string, Entry>();
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

  /**
   * Registers a stream (under `streamId` when the caller chose it); returns its subject, a function
   * that unregisters it, and one that ties a stateless call's stream to the session serving it.
   * `afterReply`: the request's reply may carry the stream's first events, so what arrives on the
   * stream waits until `replied` has written them, whatever the order the two arrive in.
   */
  open(endpoint: StreamEndpoint, streamId = randomKey(12), options: { afterReply?: boolean } = {}): OpenStream {
    const entry: Entry = { endpoint, sessionId: endpoint.sessionId, early: options.afterReply === true ? [] : undefined };
    this.streams.set(streamId, entry);
    const index = () => {
      if (entry.sessionId === undefined) return;
      const ids = this.bySession.get(entry.sessionId) ?? new Set<string>();
      this.bySession.set(entry.sessionId, ids.add(streamId));
    };
    const unindex = () => {
      const ids = entry.sessionId === undefined ? undefined : this.bySession.get(entry.sessionId);
      ids?.delete(streamId);
      if (ids?.size === 0 && entry.sessionId !== undefined) this.bySession.delete(entry.sessionId);
    };
    index();
    const close = () => {
      if (this.streams.get(streamId) === entry) this.streams.delete(streamId);
      unindex();
    };
    const bind = (sessionId: string) => {
      unindex();
      entry.sessionId = sessionId;
      index();
    };
    const replied = (events: readonly StreamMessage[]) => {
      const early = entry.early;
      if (early === undefined) return;
      entry.early = undefined;
      for (const event of events) writeEvent(endpoint, event);
      for (const { event, msg } of early) msg.respond(writeEvent(endpoint, event) ? DELIVERED : NOT_DELIVERED);
    };
    return { subject: streamSubject(this.edgeId, streamId), close, bind, replied };
  }

  /** Tells every stream of a session that it ended. */
  sessionEnded(sessionId: string, reason: string): void {
    const ids = this.bySession.get(sessionId);
    if (!ids) return;
    for (const id of [...ids]) this.streams.get(id)?.endpoint.sessionEnded(reason);
  }

  get size(): number {
    return this.streams.size;
  }

  private receive(msg: BusMessage): void {
    const entry = this.streams.get(streamIdOf(msg.subject));
    const decoded = decode(StreamMessageSchema, msg.data);
    if (!decoded.ok) this.log.warn({ subject: msg.subject, error: decoded.error }, 'bad stream message');
    let delivered = false;
    // A stateless call's stream takes its first events before it knows its session.
    if (entry && decoded.ok && (entry.sessionId === undefined || entry.sessionId === decoded.value.sessionId)) {
      if (entry.early) return void entry.early.push({ event: decoded.value, msg });
      delivered = writeEvent(entry.endpoint, decoded.value);
    }
    msg.respond(delivered ? DELIVERED : NOT_DELIVERED);
  }
}

/** One stream event to its endpoint: the message, then the end when it says so; whether the message was taken. */
export function writeEvent(endpoint: StreamEndpoint, { message, eventId, end }: StreamMessage): boolean {
  const delivered = message === undefined || endpoint.write(message, eventId);
  if (end) endpoint.end();
  return delivered;
}
