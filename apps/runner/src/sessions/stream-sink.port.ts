import type { JsonRpcMessage } from '#contracts';

/** Where a session's backend messages leave the runner: streams held open by edges. */
export interface StreamSink {
  /** A response or its progress, for the stream of the request (fire and forget). */
  publish(stream: string, sessionId: string, message: JsonRpcMessage): void;
  /** A server-initiated message; resolves false when no edge holds that stream any more. */
  deliver(stream: string, sessionId: string, message: JsonRpcMessage): Promise<boolean>;
}
