import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { MAX_JSON_DEPTH, idKey, isResponse, type JsonRpcMessage, type RequestId } from '#contracts';
import { parseJsonRpcPayload } from './json-rpc-payload.js';
import { SseReader } from './sse-reader.js';
import type { UpstreamFaults } from './upstream-faults.js';
import { mediaType, readBody, type UpstreamHttp, type UpstreamResponse } from './upstream-http.js';

/** Resumptions of one stream in a row that bring nothing new before its requests fail. */
const MAX_RESUMES = 3;
/** The longest wait before resuming, whatever `retry` the server asked for. */
const MAX_RETRY_MS = 5000;
const DEFAULT_RETRY_MS = 1000;

/** What an answer stream needs from the session it belongs to. */
export interface AnswerStreamDeps {
  http: UpstreamHttp;
  faults: UpstreamFaults;
  url: URL;
  maxMessageBytes: number;
  /** The backend's lifetime: aborted when the session ends. */
  signal: AbortSignal;
  /** The headers of a request in the session now: configured, session id, protocol version. */
  sessionHeaders(): Record<string, string>;
  /** Whether a response says the upstream no longer knows the session (reads the body of a 400). */
  sessionGone(response: UpstreamResponse): Promise<boolean>;
  /** Every message the stream carries, in order. */
  deliver(message: JsonRpcMessage): void;
  /** Requests this stream will not answer, and why (safe to show the client). */
  unanswered(ids: RequestId[], reason: string): void;
  /** A message that could not be read was skipped. */
  skipped(reason: string): void;
}

/**
 * The answer to one POST of requests: a JSON body or an event stream that carries their
 * responses (and whatever the server sends meanwhile: progress, its own requests). A stream that
 * ends before answering is resumed with `Last-Event-ID` when the server gave its events ids;
 * otherwise, or when resuming fails, its requests get an error, so no call waits forever.
 */
export class AnswerStream {
  private readonly pending = new Map<string, RequestId>();
  private body: Readable | undefined;
  private lastEventId: string | undefined;
  private retryMs: number | undefined;

  constructor(
    requests: readonly RequestId[],
    private readonly deps: AnswerStreamDeps,
  ) {
    for (const id of requests) this.pending.set(idKey(id), id);
  }

  has(id: RequestId): boolean {
    return this.pending.has(idKey(id));
  }

  /** The client cancelled `id`: nothing waits for its answer, and a stream left waiting for nothing is closed. */
  forget(id: RequestId): void {
    if (!this.pending.delete(idKey(id)) || this.pending.size > 0) return;
    this.body?.destroy();
  }

  /** Reads the answer to its end (resuming if it must); every request is answered or failed when this resolves. */
  async consume(response: UpstreamResponse): Promise<void> {
    const type = mediaType(response);
    if (type === 'application/json') return this.readJson(response.body);
    if (type !== 'text/event-stream') {
      response.body.resume();
      return this.fail(response.status === 202 ? this.deps.faults.unanswered() : this.deps.faults.unexpectedContent(type));
    }
    let stream: Readable | undefined = response.body;
    for (let resumes = 0; stream && this.pending.size > 0;) {
      const before = this.lastEventId;
      const outcome = await this.readEvents(stream);
      if (outcome === 'failed' || this.pending.size === 0 || this.deps.signal.aborted) return;
      // A resumed stream that brought something new starts the count again.
      if (this.lastEventId !== before) resumes = 0;
      if (this.lastEventId === undefined || resumes++ >= MAX_RESUMES) return this.fail(this.deps.faults.closedMidCall());
      stream = await this.resume();
    }
  }

  private async readJson(body: Readable): Promise<void> {
    const bytes = await readBody(body, this.deps.maxMessageBytes).catch(() => null);
    if (bytes === null) return this.fail(this.deps.faults.closedMidCall());
    if (bytes === undefined) return this.fail(this.deps.faults.tooLarge(this.deps.maxMessageBytes));
    const payload = parseJsonRpcPayload(bytes.toString('utf8'));
    if (!payload.ok)
      return this.fail(payload.why === 'too-deep' ? this.deps.faults.tooDeep(MAX_JSON_DEPTH) : this.deps.faults.notJsonRpc());
    for (const message of payload.messages) this.take(message);
    if (this.pending.size > 0) this.fail(this.deps.faults.unanswered());
  }

  /** Reads events until the stream ends; 'failed' once its requests have been failed. */
  private async readEvents(stream: Readable): Promise<'ended' | 'failed'> {
    this.body = stream;
    let failed = false;
    const reader = new SseReader(this.deps.maxMessageBytes, {
      event: (event) => {
        if (event.type !== 'message' || failed) return;
        const payload = parseJsonRpcPayload(event.data);
        if (payload.ok) return payload.messages.forEach((m) => this.take(m));
        if (payload.why === 'not-json-rpc') return this.deps.skipped('an event that is not a JSON-RPC message');
        failed = true;
        this.fail(this.deps.faults.tooDeep(MAX_JSON_DEPTH));
      },
      oversized: () => {
        failed = true;
        this.fail(this.deps.faults.tooLarge(this.deps.maxMessageBytes));
      },
    });
    try {
      for await (const chunk of stream) {
        reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
        if (failed) break;
      }
    } catch {
      // Reset or aborted: a stream that ended without answering, resumed below if it can be.
    } finally {
      stream.destroy();
      this.body = undefined;
    }
    this.lastEventId = reader.lastEventId ?? this.lastEventId;
    this.retryMs = reader.retryMs ?? this.retryMs;
    return failed ? 'failed' : 'ended';
  }

  /** GET with Last-Event-ID after the server's `retry`; the resumed stream, or undefined once the requests have failed. */
  private async resume(): Promise<Readable | undefined> {
    const { deps } = this;
    try {
      await delay(Math.min(this.retryMs ?? DEFAULT_RETRY_MS, MAX_RETRY_MS), undefined, { signal: deps.signal });
      const headers = { ...deps.sessionHeaders(), accept: 'text/event-stream', 'last-event-id': this.lastEventId ?? '' };
      const response = await deps.http.request({ method: 'GET', url: deps.url, headers, signal: deps.signal });
      if (response.status === 200 && mediaType(response) === 'text/event-stream') return response.body;
      const gone = await deps.sessionGone(response);
      response.body.resume();
      this.fail(gone ? deps.faults.sessionEnded(response.status) : deps.faults.closedMidCall());
    } catch {
      if (!deps.signal.aborted) this.fail(deps.faults.closedMidCall());
    }
    return undefined;
  }

  private take(message: JsonRpcMessage): void {
    if (isResponse(message)) this.pending.delete(idKey(message.id));
    this.deps.deliver(message);
  }

  private fail(reason: string): void {
    const ids = [...this.pending.values()];
    this.pending.clear();
    this.body?.destroy();
    if (ids.length > 0 && !this.deps.signal.aborted) this.deps.unanswered(ids, reason);
  }
}
