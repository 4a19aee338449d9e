import { request, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

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
const CHUNK_BYTES = 64 * 1024;
const LARGE_BODY_BYTES = 1024 * 1024;

/**
 * Sends a request on a connection of its own (a fuzzed request may leave one unusable) and waits
 * at most `timeoutMs` for the whole answer. A GET that opens an event stream (which stays open
 * by design) is abandoned once its head arrives, as a client going away; a POST's stream must end.
 * The body goes in chunks, and stops once an answer comes: a server may refuse a body it has not
 * read (413) and close the connection, as HTTP allows.
 */
export function exchange(origin: string, raw: RawRequest, timeoutMs: number): Promise<RawAnswer> {
  const { hostname, port } = new URL(origin);
  const body = raw.body === undefined ? undefined : Buffer.from(raw.body);
  // Framed by Content-Length whatever the method (Node would send a GET's body unframed).
  const headers = body === undefined ? raw.headers : { ...raw.headers, 'content-length': String(body.length) };
  return new Promise<RawAnswer>((resolve, reject) => {
    const req = request({ host: hostname, port, method: raw.method, path: raw.path, headers, agent: false });
    let answered = false;
    const sent = { done: body === undefined };
    const timer = setTimeout(() => {
      req.destroy();
      reject(new NoAnswerError(`no answer to ${raw.method} ${raw.path.slice(0, 200)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (answer: RawAnswer) => {
      clearTimeout(timer);
      resolve(answer);
    };
    // Once an answer is coming, a write the server no longer reads may fail: that is not the answer's fault.
    req.on('error', (err) => {
      if (answered) return;
      clearTimeout(timer);
      if (hungUpOnUpload(err, body, sent))
        resolve({ status: 0, headers: {}, body: `the server hung up during the upload (${String(err)})`, stream: false });
      else reject(err);
    });
    req.on('response', (res) => {
      answered = true;
      readAnswer(res, raw.method, done);
    });
    void sendBody(req, body, () => answered)
      .then(() => (sent.done = true))
      .catch(() => undefined);
  });
}

/**
 * A server may answer a body it refuses (over the size limit, wrong type) before reading it and
 * close the connection; with a large body the client can then fail to write before it reads the
 * answer. Only that is taken for an answer (status 0), never a hang-up once the body is sent.
 */
function hungUpOnUpload(err: unknown, body: Buffer | undefined, sent: { done: boolean }): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return !sent.done && body !== undefined && body.length > LARGE_BODY_BYTES && (code === 'EPIPE' || code === 'ECONNRESET');
}

async function sendBody(req: ClientRequest, body: Buffer | undefined, answered: () => boolean): Promise<void> {
  for (let at = 0; body !== undefined && at < body.length && !answered() && !req.destroyed; at += CHUNK_BYTES) {
    if (!req.write(body.subarray(at, at + CHUNK_BYTES))) await new Promise((resolve) => req.once('drain', resolve));
    // Lets an early answer be read before the next chunk, rather than after the server hangs up.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (!answered() && !req.destroyed) req.end();
}

function readAnswer(res: IncomingMessage, method: string, done: (answer: RawAnswer) => void): void {
  const status = res.statusCode ?? 0;
  const stream = (res.headers['content-type'] ?? '').startsWith('text/event-stream');
  if (stream && method === 'GET') {
    res.destroy();
    return done({ status, headers: res.headers, body: '', stream });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (chunk: Buffer) => {
    if (size < BODY_LIMIT) chunks.push(chunk);
    size += chunk.length;
  });
  const finish = () => done({ status, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, BODY_LIMIT), stream });
  res.on('end', finish);
  // The server closed the connection after answering (it did not read our whole body).
  res.on('error', finish);
}
