import { eventIdOf, type JsonRpcMessage } from '#contracts';

export interface ReplayLimits {
  /** Events kept per session, oldest dropped first. */
  messages: number;
  /** Their total size, as sent. */
  bytes: number;
}

export interface LoggedEvent {
  readonly key: string;
  readonly position: number;
  readonly eventId: string;
  readonly message: JsonRpcMessage;
  bytes: number;
  /** Offered to a stream that did not take it: sent again elsewhere, never replayed here. */
  void: boolean;
}

/** A logical stream's count of events, and whether any of them is still kept. */
interface StreamState {
  position: number;
  /** Its newest event is in the log (so, perhaps, are older ones). */
  kept: boolean;
  /** It carries nothing more (its POST is answered). */
  ended: boolean;
}

/**
 * What a session sent on its resumable streams, so a client that lost a stream can ask for what
 * came after its Last-Event-ID. Positions count per logical stream from 1; the log is bounded by
 * count and bytes, oldest first. A stream is forgotten once it has ended and none of its events
 * is kept: a session answers a POST on a stream of its own, and remembering each would grow the
 * session with every call it ever made.
 */
export class ReplayLog {
  private readonly events: LoggedEvent[] = [];
  private readonly streams = new Map<string, StreamState>();
  private bytes = 0;

  constructor(private readonly limits: ReplayLimits) {}

  /** Records an event on stream `key`; its size is accounted once sent (`sized`). */
  append(key: string, message: JsonRpcMessage): LoggedEvent {
    let stream = this.streams.get(key);
    if (!stream) this.streams.set(key, (stream = { position: 0, kept: true, ended: false }));
    const position = ++stream.position;
    stream.kept = true;
    const event: LoggedEvent = { key, position, eventId: eventIdOf(key, position), message, bytes: 0, void: false };
    this.events.push(event);
    this.trim();
    return event;
  }

  /** Accounts the size of an event once it was encoded. */
  sized(event: LoggedEvent, bytes: number): void {
    event.bytes = bytes;
    this.bytes += bytes;
    this.trim();
  }

  /** Stream `key` carries nothing more: it is forgotten once none of its events is kept. */
  ended(key: string): void {
    const stream = this.streams.get(key);
    if (!stream) return;
    stream.ended = true;
    if (!stream.kept) this.streams.delete(key);
  }

  /** The id of the last event on `key` (position 0 when none yet): a priming event names it. */
  lastEventId(key: string): string {
    return eventIdOf(key, this.streams.get(key)?.position ?? 0);
  }

  /** Streams remembered: those not ended, and those with events kept. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Events on `key` after `position`, oldest first, and how many of them are no longer kept. */
  after(key: string, position: number): { events: LoggedEvent[]; lost: number } {
    const events = this.events.filter((e) => e.key === key && e.position > position && !e.void);
    // A stream forgotten had none of its events kept: they are lost, but no longer counted.
    const sent = this.streams.get(key)?.position ?? 0;
    const kept = this.events.filter((e) => e.key === key && e.position > position).length;
    return { events, lost: Math.max(0, sent - position - kept) };
  }

  get size(): number {
    return this.events.length;
  }

  private trim(): void {
    while (this.events.length > this.limits.messages || (this.bytes > this.limits.bytes && this.events.length > 1)) {
      const dropped = this.events.shift();
      if (!dropped) continue;
      this.bytes -= dropped.bytes;
      const stream = this.streams.get(dropped.key);
      if (stream?.position !== dropped.position) continue;
      stream.kept = false;
      if (stream.ended) this.streams.delete(dropped.key);
    }
  }
}
