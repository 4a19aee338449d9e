import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { errorResponse } from '#contracts';

/** The parts of an HTTP request the MCP transports read; framework glue fills it in. */
export interface McpHttpRequest {
  method: string;
  headers: IncomingHttpHeaders;
  query: URLSearchParams;
  body: Buffer | undefined;
  /** Called once when the client goes away or the response ends. */
  onClose(listener: () => void): void;
}

/** A request refused at the HTTP level, answered with a JSON-RPC error body. */
export class McpHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(message);
  }
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

export function sendError(res: ServerResponse, err: McpHttpError): void {
  sendJson(res, err.status, errorResponse(null, err.code, err.message), err.headers);
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
