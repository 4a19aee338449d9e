import { setTimeout as delay } from 'node:timers/promises';
import type { JsonRpcMessage } from '#contracts';
import { parseJsonRpcPayload } from './json-rpc-payload.js';
import { SseReader } from './sse-reader.js';
import { mediaType, type UpstreamHttp, type UpstreamResponse } from './upstream-http.js';
import { readRefusal } from './upstream-status.js';

/** Failed connections in a row before the stream is given up (the session goes on without it). */
const MAX_FAILURES = 5;
/** A stream that stayed open this long counts as a success, however little it carried. */
const HEALTHY_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
const DEFAULT_RETRY_MS = 1000;

export interface StandaloneStreamDeps {
  http: UpstreamHttp;
  url: URL;
  maxMessageBytes: number;
  /** Aborted when the session ends. */
  signal: AbortSignal;
  /** Time allowed for the upstream to answer the GET. */
  timeoutMs: number;
  sessionHeaders(): Record<string, string>;
  deliver(message: JsonRpcMessage): void;
  /** The upstream no longer knows the session: the next client message renews it. */
  sessionGone(): void;
  /** The stream carried a message over the size limit: the session cannot go on. */
  fatal(reason: 'too-large'): void;
  /** Something worth a log line (no secret in it). */
  note(message: string): void;
}

/**
 * The GET stream of a streamable-HTTP session: what the upstream sends outside any request
 * (its own requests, list changes, logs). Opened after initialization; 405 means the upstream
 * offers none. A stream that ends is reopened, with Last-Event-ID when its events had ids.
 */
export class StandaloneStream {
  private stopped = false;
  private lastEventId: string | undefined;
  private retryMs: number | undefined;
  private readonly stop = new AbortController();
  private readonly signal: AbortSignal;

  constructor(private readonly deps: StandaloneStreamDeps) {
    this.signal = AbortSignal.any([deps.signal, this.stop.signal]);
  }

  /** Runs until the session ends, the upstream says it has no stream, or it failed too often. */
  async run(): Promise<void> {
    for (let failures = 0; !this.stopped && failures < MAX_FAILURES;) {
      const opened = Date.now();
      const outcome = await this.connect().catch(() => 'failed' as const);
      if (outcome === 'done' || this.signal.aborted) return;
      failures = outcome === 'read' && Date.now() - opened >= HEALTHY_MS ? 0 : failures + 1;
      const wait = failures <= 1 ? (this.retryMs ?? DEFAULT_RETRY_MS) : Math.min(1000 * 2 ** failures, MAX_BACKOFF_MS);
      await delay(wait, undefined, { signal: this.signal }).catch(() => undefined);
    }
    if (!this.stopped && !this.signal.aborted) this.deps.note(`gave up the upstream's event stream after ${MAX_FAILURES} failures`);
  }

  close(): void {
    this.stopped = true;
    this.stop.abort();
  }

  /** One connection: 'read' when a stream was read to its end, 'done' when there is nothing more to do. */
  private async connect(): Promise<'read' | 'failed' | 'done'> {
    const { deps } = this;
    const headers: Record<string, string> = { ...deps.sessionHeaders(), accept: 'text/event-stream' };
    if (this.lastEventId !== undefined) headers['last-event-id'] = this.lastEventId;
    const response = await deps.http.request({
      method: 'GET',
      url: deps.url,
      headers,
      headersTimeoutMs: deps.timeoutMs,
      signal: this.signal,
    });
    if (response.status === 200 && mediaType(response) === 'text/event-stream') return this.read(response);
    if (response.status === 405) {
      response.body.resume();
      return 'done';
    }
    const refusal = await readRefusal(response, true);
    if (!refusal.sessionGone) {
      deps.note(`the upstream answered HTTP ${response.status} to its event stream`);
      return 'failed';
    }
    deps.sessionGone();
    return 'done';
  }

  private async read(response: UpstreamResponse): Promise<'read' | 'done'> {
    let oversized = false;
    const reader = new SseReader(this.deps.maxMessageBytes, {
      event: (event) => {
        if (event.type !== 'message') return;
        const payload = parseJsonRpcPayload(event.data);
        if (payload.ok) payload.messages.forEach((m) => this.deps.deliver(m));
        else this.deps.note('skipped an event that is not a JSON-RPC message');
      },
      oversized: () => (oversized = true),
    });
    try {
      for await (const chunk of response.body) {
        reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
        if (oversized) break;
      }
    } catch {
      // Reset or aborted: reconnect below unless the session is over.
    } finally {
      response.body.destroy();
    }
    this.lastEventId = reader.lastEventId ?? this.lastEventId;
    this.retryMs = reader.retryMs ?? this.retryMs;
    if (!oversized) return 'read';
    this.deps.fatal('too-large');
    return 'done';
  }
}
