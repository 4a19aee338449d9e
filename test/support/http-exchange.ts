import { request, type IncomingHttpHeaders } from 'node:http';

/** One HTTP request exactly as a fuzzer wants it sent: any method, path, headers and bytes. */
export interface RawRequest {
  method: string;
  /** Path and query, sent as written. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, at most `BODY_LIMIT` bytes of it; empty for an abandoned GET stream. */
  body: string;
  /** An event stream. */
  stream: boolean;
}

/** Raised when no complete answer (or stream head) came in time: the gateway hung on a request. */
export class NoAnswerError extends Error {}

const BODY_LIMIT = 64 * 1024;

/**
 * Sends a request on a connection of its own (a fuzzed request may leave one unusable) and waits
 * at most `timeoutMs` for the whole answer. A GET that opens an event stream (which stays open
 * by design) is abandoned once its head arrives, as a client going away; a POST's stream must end.
 */
export function exchange(origin: string, raw: RawRequest, timeoutMs: number): Promise<RawAnswer> {
  const { hostname, port } = new URL(origin);
  const body = raw.body === undefined ? undefined : Buffer.from(raw.body);
  // Framed by Content-Length whatever the method (Node would send a GET's body unframed).
  const headers = body === undefined ? raw.headers : { ...raw.headers, 'content-length': String(body.length) };
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = request({ host: hostname, port, method: raw.method, path: raw.path, headers, agent: false });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new NoAnswerError(`no answer to ${raw.method} ${raw.path.slice(0, 200)} within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const stream = (res.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (stream && raw.method === 'GET') {
        clearTimeout(timer);
        res.destroy();
        return resolve({ status, headers: res.headers, body: '', stream });
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (size < BODY_LIMIT) chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, BODY_LIMIT), stream });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.end(body);
  });
}
