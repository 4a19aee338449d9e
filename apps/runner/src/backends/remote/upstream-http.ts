import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { UpstreamFaults } from './upstream-faults.js';

/** Same-origin redirects followed for one request (a trailing-slash redirect is the usual one). */
const MAX_REDIRECTS = 5;
const REDIRECT = new Set([301, 302, 303, 307, 308]);

export interface UpstreamRequest {
  method: 'GET' | 'POST' | 'DELETE';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** Time until the response headers arrive; without it, as long as `signal` allows (a tool call's JSON answer may take minutes). */
  headersTimeoutMs?: number;
  signal: AbortSignal;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

/** A request that failed before any response: its message is safe to show the client. */
export class UpstreamFault extends Error {}

/**
 * HTTP to one remote server from a runner: its own keep-alive connections (closed with the
 * session), TLS verified against Node's CAs and NODE_EXTRA_CA_CERTS, redirects followed only
 * within the server's origin, a bounded wait for connecting. No proxy and no cookies.
 */
export class UpstreamHttp {
  private readonly agent: http.Agent;

  constructor(
    private readonly origin: URL,
    private readonly faults: UpstreamFaults,
    private readonly connectTimeoutMs: number,
  ) {
    this.agent = origin.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  }

  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    let url = request.url;
    for (let hops = 0; ; hops++) {
      const response = await this.once({ ...request, url });
      const location = response.headers.location;
      if (!REDIRECT.has(response.status) || location === undefined) return response;
      response.body.resume();
      const next = new URL(location, url);
      if (next.origin !== this.origin.origin) throw new UpstreamFault(this.faults.redirectedAway(next));
      if (hops >= MAX_REDIRECTS) throw new UpstreamFault(this.faults.tooManyRedirects());
      url = next;
    }
  }

  /** Closes every connection this server's sessions hold. */
  destroy(): void {
    this.agent.destroy();
  }

  private once(request: UpstreamRequest): Promise<UpstreamResponse> {
    const { url, method, body, signal } = request;
    const client = url.protocol === 'https:' ? https : http;
    const headers = body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(body)) };
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const fail = (message: string) => {
        clearTimeout(timer);
        outgoing.destroy();
        reject(new UpstreamFault(message));
      };
      // Not http's `signal` option, and no error given: either would reach a socket already back in the
      // keep-alive pool, where nothing listens for its error (an uncaught AbortError when a session ends).
      const abort = () => outgoing.destroy();
      const release = () => signal.removeEventListener('abort', abort);
      const outgoing = client.request(url, { method, headers, agent: this.agent }, (response) => {
        clearTimeout(timer);
        response.once('close', release);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response });
      });
      outgoing.on('error', (err) => {
        clearTimeout(timer);
        release();
        reject(new UpstreamFault(this.faults.unreachable(err)));
      });
      if (signal.aborted) abort();
      else signal.addEventListener('abort', abort, { once: true });
      outgoing.on('socket', (socket) => {
        if (!socket.connecting) return;
        const connectTimer = setTimeout(() => fail(this.faults.noAnswer(this.connectTimeoutMs)), this.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
        socket.once('close', () => clearTimeout(connectTimer));
      });
      if (request.headersTimeoutMs !== undefined) {
        const ms = request.headersTimeoutMs;
        timer = setTimeout(() => fail(this.faults.noAnswer(ms)), ms);
      }
      outgoing.end(body);
    });
  }
}

/** The whole body, or `undefined` once it passes `maxBytes` (then it is not read further). */
export async function readBody(body: Readable, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > maxBytes) {
      body.destroy();
      return undefined;
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, size);
}

/** The media type of a response, without parameters, lower case. */
export function mediaType(response: UpstreamResponse): string | undefined {
  return response.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
}
