import type { Readable } from 'node:stream';
import { errorResponse, isRequest, JsonRpcCode, MAX_JSON_DEPTH, type JsonRpcMessage } from '#contracts';
import { parseJsonRpcPayload } from './json-rpc-payload.js';
import { RemoteBackend, type RemoteSpec } from './remote-backend.js';
import { SseReader } from './sse-reader.js';
import { mediaType, UpstreamFault, type UpstreamResponse } from './upstream-http.js';
import { readRefusal } from './upstream-status.js';

/**
 * A remote server over the HTTP+SSE transport of 2024-11-05: one event stream per session, whose
 * first event (`endpoint`) names where messages are POSTed, resolved against `url` and followed
 * only on the same origin. Everything the server says comes on the stream, so when it ends, the
 * session ends (the protocol has no way to resume it). A person's credential refused (401) when the
 * stream opens is renewed once; later requests of the session keep the stream's credential.
 */
export class SseBackend extends RemoteBackend {
  private endpoint: URL | undefined;

  constructor(spec: RemoteSpec) {
    super(spec);
  }

  /** Opens the event stream and waits for the endpoint; rejects with a message safe to show. */
  async start(): Promise<void> {
    let response = await this.openStream();
    // A person's credential the upstream refuses is renewed once (auth is asked); the stream opens with the new one.
    if (response.status === 401 && this.spec.credential) {
      response.body.resume();
      const renewed = await this.spec.credential.refused();
      if (!renewed.ok) throw new Error(renewed.reason);
      this.headers = renewed.headers;
      response = await this.openStream();
    }
    if (response.status < 200 || response.status > 299) {
      const { detail } = await readRefusal(response, false);
      throw new Error(
        response.status === 401 || response.status === 403
          ? this.faults.refused(response.status)
          : this.faults.status(response.status, detail),
      );
    }
    if (mediaType(response) !== 'text/event-stream') {
      response.body.resume();
      throw new Error(this.faults.notEventStream(mediaType(response)));
    }
    this.endpoint = await this.readStream(response.body);
    this.log('info', 'upstream event stream open');
  }

  private async openStream(): Promise<UpstreamResponse> {
    try {
      return await this.http.request({
        method: 'GET',
        url: this.spec.url,
        headers: { ...this.headers, accept: 'text/event-stream' },
        headersTimeoutMs: this.spec.timeoutMs,
        signal: this.signal,
      });
    } catch (err) {
      throw new Error(err instanceof UpstreamFault ? err.message : this.faults.noEndpoint(), { cause: err });
    }
  }

  protected async deliver(message: JsonRpcMessage): Promise<void> {
    const endpoint = this.endpoint;
    if (!endpoint) return;
    const fail = (reason: string) => isRequest(message) && this.emit(errorResponse(message.id, JsonRpcCode.serverError, reason));
    const headers = { ...this.headers, 'content-type': 'application/json' };
    try {
      // Answers come on the event stream; the POST itself is acknowledged at once (202).
      const reply = await this.http.request({
        method: 'POST',
        url: endpoint,
        headers,
        body: JSON.stringify(message),
        headersTimeoutMs: this.spec.timeoutMs,
        signal: this.signal,
      });
      if (reply.status >= 200 && reply.status <= 299) return void reply.body.resume();
      const refusal = await readRefusal(reply, true);
      if (reply.status === 404) return this.end(this.faults.sessionEnded(404));
      fail(
        reply.status === 401 || reply.status === 403 ? this.faults.refused(reply.status) : this.faults.status(reply.status, refusal.detail),
      );
    } catch (err) {
      fail(err instanceof UpstreamFault ? err.message : this.faults.closedMidCall());
    }
  }

  protected async shutdown(): Promise<void> {
    // Closing the event stream (done by the abort) is how this transport ends a session.
  }

  /** Reads the stream in the background; resolves with the endpoint once it is named, rejects if it never is. */
  private readStream(body: Readable): Promise<URL> {
    return new Promise((resolve, reject) => {
      let endpoint: URL | undefined;
      let failure: string | undefined;
      const reader = new SseReader(this.spec.maxMessageBytes, {
        event: (event) => {
          if (failure !== undefined) return;
          if (event.type === 'endpoint' && endpoint === undefined) {
            const named = URL.canParse(event.data, this.spec.url.href) ? new URL(event.data, this.spec.url) : undefined;
            if (named?.origin === this.spec.url.origin) return resolve((endpoint = named));
            failure = named ? this.faults.foreignEndpoint(named) : this.faults.noEndpoint();
            return reject(new Error(failure));
          }
          if (event.type === 'message') this.message(event.data);
        },
        oversized: () => (failure = this.faults.tooLarge(this.spec.maxMessageBytes)),
      });
      this.spawn(async () => {
        try {
          for await (const chunk of body) {
            reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
            if (failure !== undefined) break;
          }
        } catch {
          // The stream broke: the session ends below.
        } finally {
          body.destroy();
        }
        const reason = failure ?? (endpoint ? this.faults.streamClosed() : this.faults.noEndpoint());
        if (!endpoint) return reject(new Error(reason));
        this.end(reason);
      });
    });
  }

  private message(data: string): void {
    const payload = parseJsonRpcPayload(data);
    if (payload.ok) return payload.messages.forEach((m) => this.emit(m));
    if (payload.why === 'too-deep') return this.end(this.faults.tooDeep(MAX_JSON_DEPTH));
    this.log('warn', 'skipped an event that is not a JSON-RPC message');
  }
}
