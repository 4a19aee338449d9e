import type { StreamMessage } from '#contracts';

/** Where a session's backend messages leave the runner: streams held open by edges. */
export interface StreamSink {
  /** A response, its progress, or an end marker, for a request stream (fire and forget); returns the bytes sent. */
  publish(subject: string, event: StreamMessage): number;
  /** A server-initiated message; resolves false when no edge holds that stream any more. */
  deliver(subject: string, event: StreamMessage): Promise<boolean>;
}
