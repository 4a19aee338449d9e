import type { IncomingHttpHeaders, OutgoingHttpHeader, ServerResponse } from 'node:http';
import { errorResponse, type GatehouseError } from '#contracts';

/** The parts of an HTTP request the MCP transports read; framework glue fills it in. */
export interface McpHttpRequest {
  method: string;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  body: Buffer | undefined;
  /** The caller's address as this edge sees it: it tells apart callers that present no credentials. */
  clientAddress: string;
  /** `performance.now()` when the request arrived: MCP requests are timed from here. */
  receivedAt: number;
  /** Called once when the client goes away or the response ends. */
  onClose(listener: () => void): void;
}

/** Header fields a handler adds to a response: the session's id, a challenge, an allow list. */
export type ResponseHeaders = Readonly<Record<string, string | string[]>>;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: ResponseHeaders = {}): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, headerList(['content-type', 'application/json', 'content-length', Buffer.byteLength(text)], headers));
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: ResponseHeaders = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, headerList([], headers));
  res.end();
}

/**
 * A response's header fields as the flat list `writeHead` takes (name, value, name, value…): `own`
 * (a new list, which this extends), then those of `added` that `own` does not name. A list, where
 * an object spread from `added` and then extended made V8 change the new object's shape in its
 * runtime on every answer (about 8,000 instructions, bench:instructions --profile).
 */
export function headerList(own: OutgoingHttpHeader[], added: ResponseHeaders): OutgoingHttpHeader[] {
  for (const name of Object.keys(added)) {
    const value = added[name];
    if (value !== undefined && !namesHeader(own, name)) own.push(name, value);
  }
  return own;
}

function namesHeader(list: readonly OutgoingHttpHeader[], name: string): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return true;
  return false;
}

/** A refusal as a JSON-RPC error body: only what the error lets the client read. */
export function sendError(res: ServerResponse, err: GatehouseError): void {
  const data = err.expose ? err.rpcData : undefined;
  sendJson(res, err.status, errorResponse(err.rpcId, err.rpcCode, err.publicMessage, data), err.headers);
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The path of a request target, without its query. */
export function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query < 0 ? target : target.slice(0, query);
}
