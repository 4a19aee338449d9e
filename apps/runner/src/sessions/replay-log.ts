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

/**
 * What a session sent on its resumable streams, so a client that lost a stream can ask for what
 * came after its Last-Event-ID. Positions count per logical stream from 1; the log is bounded by
 * count and bytes, oldest first.
 */
export class ReplayLog {
  private readonly events: LoggedEvent[] = [];
  private readonly positions = new Map<string, number>();
  private bytes = 0;

  constructor(private readonly limits: ReplayLimits) {}

  /** Records an event on stream `key`; its size is accounted once sent (`sized`). */
  append(key: string, message: JsonRpcMessage): LoggedEvent {
    const position = (this.positions.get(key) ?? 0) + 1;
    this.positions.set(key, position);
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

  /** The id of the last event on `key` (position 0 when none yet): a priming event names it. */
  lastEventId(key: string): string {
    return eventIdOf(key, this.positions.get(key) ?? 0);
  }

  /** Whether `key` is a stream this session has sent on. */
  knows(key: string): boolean {
    return this.positions.has(key);
  }

  /** Events on `key` after `position`, oldest first, and how many of them are no longer kept. */
  after(key: string, position: number): { events: LoggedEvent[]; lost: number } {
    const events = this.events.filter((e) => e.key === key && e.position > position && !e.void);
    const sent = this.positions.get(key) ?? 0;
    const kept = this.events.filter((e) => e.key === key && e.position > position).length;
    return { events, lost: Math.max(0, sent - position - kept) };
  }

  get size(): number {
    return this.events.length;
  }

  private trim(): void {
    while (this.events.length > this.limits.messages || (this.bytes > this.limits.bytes && this.events.length > 1)) {
      const dropped = this.events.shift();
      if (dropped) this.bytes -= dropped.bytes;
    }
  }
}
