import type { JsonRpcMessage } from '#contracts';

/** Where one session's backend messages go: its client's streams (2025) or its pooled calls (2026-07-28). */
export interface Outbound {
  /** The key of the logical stream a request sent with `subject` answers on. */
  streamFor(subject: string | undefined): string | undefined;
  /** A response, or progress, for stream `key`; `last`: nothing follows it on that stream (as if `end` came next). */
  send(key: string | undefined, message: JsonRpcMessage, last?: boolean): void;
  /** Stream `key` carries nothing more. */
  end(key: string): void;
  /** The session is over: every stream ends. */
  endAll(): void;
  /** A server-initiated message: a request of the backend's, a log line, a list change. */
  offer(message: JsonRpcMessage): void;
  /** A stream opened on an edge (resuming `resumeAfter`); returns the event id a new standalone stream primes with. */
  attach(subject: string, resumeAfter: string | undefined, inFlight: (key: string) => boolean): string | undefined;
  detach(subject: string): void;
}
