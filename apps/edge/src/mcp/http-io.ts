import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, headers);
  res.end();
}

/** A refusal as a JSON-RPC error body: only what the error lets the client read. */
export function sendError(res: ServerResponse, err: GatehouseError): void {
  const data = err.expose ? err.rpcData : undefined;
  sendJson(res, err.status, errorResponse(err.rpcId, err.rpcCode, err.publicMessage, data), { ...err.headers });
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
