import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorResponse, JsonRpcCode } from '#contracts';

/** Request line and headers together: Node's default, fixed here so that no runtime flag raises it. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** Header fields in one request; browsers send about 20. */
export const MAX_HEADER_COUNT = 100;
/** To receive a request's headers, and the whole request with its body; responses (SSE streams) are not limited. */
export const HEADERS_TIMEOUT_MS = 15_000;
export const REQUEST_TIMEOUT_MS = 60_000;
/** How often Node looks for requests past those timeouts (its default, 30 s, would let them run 30 s over). */
const TIMEOUT_CHECK_INTERVAL_MS = 2_000;
/** How long a refused connection's remaining input is read and dropped before it is closed for good. */
const LINGER_MS = 2_000;

/** Fastify options that bound what a client may send before a handler runs. */
export const httpServerLimits = {
  http: { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: HEADERS_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
  requestTimeout: REQUEST_TIMEOUT_MS,
  clientErrorHandler: answerClientError,
};

/** Connections refused with an answer, closing once the client's remaining input is drained. */
const answered = new WeakSet<Socket>();

/**
 * Requests that Node's parser refused (headers too large, too slow, malformed) get the same
 * JSON-RPC error body as every other refusal, then the connection closes.
 */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, `Request headers are larger than the limit of ${MAX_HEADER_BYTES} bytes`]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request did not arrive in time']
        : [400, 'Malformed HTTP request'];
  const body = JSON.stringify(errorResponse(null, JsonRpcCode.invalidRequest, message));
  const head = `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}`;
  // Node's parser reports each later chunk of a refused request again: the answer is already going.
  if (answered.has(socket)) return;
  if (!socket.writable) return void socket.destroy();
  answered.add(socket);
  // Closing with unread input would reset the connection and could take the answer with it (a client
  // still sending a megabyte of headers): answer, half-close, drain what still comes for a moment.
  socket.end(`${head}\r\n\r\n${body}`);
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
