import type { ServerResponse } from 'node:http';
import { JsonRpcCode, errorResponse, eventIdOf, idKey, isRequest, isResponse, type JsonRpcMessage, type RequestId } from '#contracts';
import type { StreamEndpoint } from '../relay/stream-registry.js';
import { sendEmpty, sendJson, type ResponseHeaders } from './http-io.js';
import type { RequestMeter } from './request-meter.js';
import { SseStream } from './sse-stream.js';

export interface PostExchangeOptions {
  batch: boolean;
  json: boolean;
  sse: boolean;
  headers: ResponseHeaders;
  /** The logical stream's key, when the client's version reads priming events (2025-11-25 on). */
  primeKey: string | undefined;
  /** The HTTP status of a single JSON answer (200 unless said otherwise). */
  status?: (response: JsonRpcMessage) => number;
  /** Counts each request once, as it is answered, failed or abandoned. */
  meter?: RequestMeter;
  /**
   * Switch a JSON answer to a (primed) event stream when nothing has ended the exchange this many
   * milliseconds after it began: a call that takes a while becomes resumable, a quick one stays JSON.
   */
  streamAfterMs?: number;
}

/**
 * The answer to one POST that carried requests: JSON when only responses come back, switching
 * to SSE as soon as the backend sends anything else (progress, a server request) first. It ends
 * when the runner says every request on it is answered or cancelled.
 */
export class PostExchange implements StreamEndpoint {
  /** Requests not answered yet: for failing them at once when the runner is gone, and for the metrics. */
  private readonly pending = new Map<string, { id: RequestId; method: string }>();
  private readonly collected: { message: JsonRpcMessage; eventId: string | undefined }[] = [];
  private sse: SseStream | undefined;
  private done = false;
  private streamTimer: NodeJS.Timeout | undefined;
  private markDone: () => void = () => undefined;
  private readonly whenDone = new Promise<void>((resolve) => (this.markDone = resolve));

  constructor(
    private readonly res: ServerResponse,
    requests: readonly JsonRpcMessage[],
    private readonly options: PostExchangeOptions,
  ) {
    for (const r of requests) if (isRequest(r)) this.pending.set(idKey(r.id), { id: r.id, method: r.method });
    if (!options.json) this.openSse();
    else if (options.sse && options.streamAfterMs !== undefined) {
      this.streamTimer = setTimeout(() => {
        if (!this.done && !this.sse) this.openSse();
      }, options.streamAfterMs).unref();
    }
  }

  /** Resolves when the exchange has ended, however it ended. */
  finished(): Promise<void> {
    return this.whenDone;
  }

  get isDone(): boolean {
    return this.done;
  }

  write(message: JsonRpcMessage, eventId: string | undefined): boolean {
    if (this.done) return false;
    if (isResponse(message)) {
      this.settle(idKey(message.id), message.error === undefined ? 'ok' : 'error');
      if (this.sse) return this.sse.send(message, eventId);
      this.collected.push({ message, eventId });
      return true;
    }
    if (!this.sse) {
      if (!this.options.sse) return false;
      this.openSse();
    }
    return this.sse?.send(message, eventId) ?? false;
  }

  end(): void {
    if (!this.done) this.finish();
  }

  /** Every unanswered request gets a JSON-RPC error, then the exchange ends. */
  sessionEnded(reason: string): void {
    this.fail(`Session ended: ${reason}`);
  }

  fail(message: string): void {
    if (this.done) return;
    for (const { id, method } of this.pending.values()) {
      this.options.meter?.(method, 'error');
      const error = errorResponse(id, JsonRpcCode.serverError, message);
      if (this.sse) this.sse.send(error);
      else this.collected.push({ message: error, eventId: undefined });
    }
    this.pending.clear();
    this.finish();
  }

  /** The client went away: nothing more can be written. */
  abandon(): void {
    for (const { method } of this.pending.values()) this.options.meter?.(method, 'cancelled');
    this.withdraw();
  }

  /** Ends the exchange uncounted: its requests were refused, and the refusal is counted where it is answered. */
  withdraw(): void {
    clearTimeout(this.streamTimer);
    this.pending.clear();
    this.done = true;
    this.sse?.end();
    this.markDone();
  }

  private settle(key: string, outcome: 'ok' | 'error'): void {
    const request = this.pending.get(key);
    if (!request) return;
    this.pending.delete(key);
    this.options.meter?.(request.method, outcome);
  }

  private openSse(): void {
    this.sse = new SseStream(this.res, this.options.headers);
    if (this.options.primeKey !== undefined) this.sse.prime(eventIdOf(this.options.primeKey, 0));
    for (const { message, eventId } of this.collected.splice(0)) this.sse.send(message, eventId);
  }

  private finish(): void {
    clearTimeout(this.streamTimer);
    // The runner ends an exchange early only for requests the client cancelled.
    for (const { method } of this.pending.values()) this.options.meter?.(method, 'cancelled');
    this.pending.clear();
    this.done = true;
    if (this.sse) this.sse.end();
    // Nothing to answer when every request was cancelled: accepted, like a notification.
    else if (this.collected.length === 0) sendEmpty(this.res, 202, this.options.headers);
    else {
      const messages = this.collected.map((c) => c.message);
      const [first] = messages;
      const status = !this.options.batch && first && this.options.status ? this.options.status(first) : 200;
      sendJson(this.res, status, this.options.batch ? messages : first, this.options.headers);
    }
    this.markDone();
  }
}
