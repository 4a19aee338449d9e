import type { StreamMessage } from '#contracts';

/** What a hold kept: the events in order, and each one's JSON text (`texts[i]` is `events[i]` as the bus carries it). */
export interface HeldEvents {
  events: StreamMessage[];
  texts: string[];
}

/** Where a session's backend messages leave the runner: streams held open by edges. */
export interface StreamSink {
  /** A response, its progress, or an end marker, for a request stream (fire and forget); returns the bytes sent. */
  publish(subject: string, event: StreamMessage): number;
  /** A server-initiated message; resolves false when no edge holds that stream any more. */
  deliver(subject: string, event: StreamMessage): Promise<boolean>;
  /**
   * Keeps what is published to `subject` for `release` instead, until the stream ends, `ms` pass,
   * or a server-initiated message comes for it; what `release` does not carry (it returns false)
   * is published then. Without it, nothing is held.
   */
  hold?(subject: string, ms: number, release: (held: HeldEvents) => boolean): void;
}
