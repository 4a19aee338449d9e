import type { ServerResponse } from 'node:http';
import { JsonRpcCode, errorResponse, idKey, isRequest, isResponse, type JsonRpcMessage, type RequestId } from '#contracts';
import type { StreamEndpoint } from '../relay/stream-registry.js';
import { sendEmpty, sendJson } from './http-io.js';
import { SseStream } from './sse-stream.js';

/**
 * The answer to one POST that carried requests: JSON when only responses come back, switching
 * to SSE as soon as the backend sends anything else (progress, a server request) first.
 */
export class PostExchange implements StreamEndpoint {
  private readonly pending = new Map<string, RequestId>();
  private readonly collected: JsonRpcMessage[] = [];
  private sse: SseStream | undefined;
  private done = false;
  private markDone: () => void = () => undefined;
  private readonly whenDone = new Promise<void>((resolve) => (this.markDone = resolve));

  constructor(
    readonly sessionId: string,
    private readonly res: ServerResponse,
    requests: readonly JsonRpcMessage[],
    private readonly options: { batch: boolean; json: boolean; sse: boolean; headers: Record<string, string> },
  ) {
    for (const r of requests) if (isRequest(r)) this.pending.set(idKey(r.id), r.id);
    if (!options.json) this.sse = new SseStream(res, options.headers);
  }

  /** Resolves when every request has its response or the exchange was cut short. */
  finished(): Promise<void> {
    return this.whenDone;
  }

  get isDone(): boolean {
    return this.done;
  }

  write(message: JsonRpcMessage): boolean {
    if (this.done) return false;
    if (isResponse(message) && this.pending.delete(idKey(message.id))) {
      if (this.sse) this.sse.send(message);
      else this.collected.push(message);
      if (this.pending.size === 0) this.finish();
      return true;
    }
    if (!this.sse) {
      if (!this.options.sse) return false;
      this.sse = new SseStream(this.res, this.options.headers);
      for (const earlier of this.collected.splice(0)) this.sse.send(earlier);
    }
    return this.sse.send(message);
  }

  cancel(requestId: RequestId): void {
    if (this.done || !this.pending.delete(idKey(requestId))) return;
    if (this.pending.size === 0) this.finish();
  }

  /** Every unanswered request gets a JSON-RPC error, then the exchange ends. */
  sessionEnded(reason: string): void {
    this.fail(`Session ended: ${reason}`);
  }

  fail(message: string): void {
    if (this.done) return;
    for (const id of this.pending.values()) {
      const error = errorResponse(id, JsonRpcCode.serverError, message);
      if (this.sse) this.sse.send(error);
      else this.collected.push(error);
    }
    this.pending.clear();
    this.finish();
  }

  /** The client went away: nothing more can be written. */
  abandon(): void {
    this.pending.clear();
    this.done = true;
    this.sse?.end();
    this.markDone();
  }

  private finish(): void {
    this.done = true;
    if (this.sse) this.sse.end();
    // Nothing to answer when every request was cancelled: accepted, like a notification.
    else if (this.collected.length === 0) sendEmpty(this.res, 202, this.options.headers);
    else sendJson(this.res, 200, this.options.batch ? this.collected : this.collected[0], this.options.headers);
    this.markDone();
  }
}
