import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError } from '#contracts';
import type { Logger, Metrics } from '#observability';
import { countHttpRequest } from '../http/http-metrics.js';
import { refuse, type RequestGate } from '../http/request-gate.js';
import { pathOf, sendError, type McpHttpRequest } from './http-io.js';
import { McpErrors } from './mcp-errors.js';
import { refusedMethods, requestMeter } from './request-meter.js';
import type { LegacySseHandler } from './legacy-sse.handler.js';
import type { StreamableHttpHandler } from './streamable-http.handler.js';

type Handler = (req: McpHttpRequest, res: ServerResponse, server: string) => Promise<void>;

/** The MCP routes' last path segment: streamable HTTP, and the legacy transport's two. */
type Endpoint = 'mcp' | 'sse' | 'message';

/** Takes an HTTP request when it is one of the MCP routes'; false leaves it to the framework. */
export type McpDispatch = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The MCP transports' routes, `{basePath}/{server}/mcp|sse|message`, served below Fastify: every
 * message of every call comes through them, and Fastify's handling of a request (its request and
 * reply objects, hook runner, body parser, and the middleware runner Nest adds) is work none of
 * them needs; without it a call under load costs the gateway about 6% less CPU (ADR 0010). The
 * request gate checks them as it checks Fastify's routes, they are counted in the HTTP metrics
 * under their patterns (`/:server/mcp`), and the handlers know nothing of either. Everything else
 * goes to Fastify.
 */
export class McpRoutes {
  private readonly handlers: ReadonlyMap<string, Handler>;

  constructor(
    streamable: StreamableHttpHandler,
    legacy: LegacySseHandler,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {
    this.handlers = new Map<`${string} ${Endpoint}`, Handler>([
      ['POST mcp', (q, r, s) => streamable.post(q, r, s)],
      ['GET mcp', (q, r, s) => streamable.get(q, r, s)],
      ['DELETE mcp', (q, r, s) => streamable.delete(q, r, s)],
      ['GET sse', (q, r, s) => legacy.stream(q, r, s)],
      ['POST message', (q, r, s) => legacy.message(q, r, s)],
    ]);
  }

  /** The dispatch of the routes under `basePath` ('' or '/prefix'), each request checked by `gate` first. */
  dispatch(basePath: string, gate: RequestGate): McpDispatch {
    return (req, res) => {
      const target = routeOf(req.url ?? '', basePath);
      const handler = target && this.handlers.get(`${req.method} ${target.endpoint}`);
      if (!target || !handler) return false;
      if (this.metrics.enabled) countHttpRequest(this.metrics, res, `${basePath}/:server/${target.endpoint}`, req.method ?? '');
      this.serve(handler, target.server, gate, req, res).catch((err: unknown) => {
        // Answering failed (the handlers' own failures are answered in serve): cut it, never leave it hanging.
        this.log.error({ err, server: target.server }, 'MCP request could not be answered');
        res.destroy();
      });
      return true;
    };
  }

  private async serve(handler: Handler, server: string, gate: RequestGate, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = gate.refusal(req);
    if (refused) return refuse(req, res, refused);
    // Only POST bodies are read: what a GET or DELETE carries is dropped once it is answered.
    let body: Buffer | undefined;
    if (req.method === 'POST') {
      const read = await readBody(req, gate.maxBodyBytes);
      if (read === 'too large') return refuse(req, res, gate.tooLarge());
      if (read === undefined) return; // the client went away before its body was whole
      body = read;
    }
    const request = new RouteRequest(req, res, body);
    try {
      await handler(request, res, server);
    } catch (err) {
      const refusal = err instanceof GatehouseError ? err : McpErrors.internal(err);
      if (!refusal.expose) this.log.error({ err: refusal.cause ?? err, server }, 'MCP request failed');
      if (request.method === 'POST') this.countRefused(server, request);
      sendError(res, refusal);
    }
  }

  /** The requests of a POST the edge refused: the handlers counted none of them. */
  private countRefused(server: string, request: McpHttpRequest): void {
    if (!this.metrics.enabled) return;
    const meter = requestMeter(this.metrics, server, request.receivedAt);
    for (const method of refusedMethods(request.body)) meter(method, 'refused');
  }
}

/**
 * A request as the MCP handlers read it. A class, its query a getter of the prototype: as an object
 * literal with a getter of its own (which V8 builds in dictionary mode), each request's objects
 * outlived the young generation's collections and were copied into the old generation, 5 KB a call
 * freed only by a full collection; with the class, 0.5 KB (bench/notes.md, the seventh round).
 */
class RouteRequest implements McpHttpRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly clientAddress: string;
  readonly receivedAt = performance.now();

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly body: Buffer | undefined,
  ) {
    this.method = req.method ?? '';
    this.headers = req.headers;
    this.clientAddress = req.socket.remoteAddress ?? '';
  }

  /** Made when read: only the legacy transport's message endpoint has a query. */
  get query(): URLSearchParams {
    return new URLSearchParams(queryOf(this.req.url ?? ''));
  }

  /** The client may already be gone by the time a handler registers (it awaits first). */
  onClose(listener: () => void): void {
    if (this.res.closed) queueMicrotask(listener);
    else this.res.once('close', listener);
  }
}

/** The server and endpoint a request target names under `basePath`, if it is an MCP route's. */
export function routeOf(target: string, basePath: string): { server: string; endpoint: string } | undefined {
  const path = pathOf(target);
  if (!path.startsWith(`${basePath}/`)) return undefined;
  const rest = path.slice(basePath.length + 1);
  const slash = rest.indexOf('/');
  if (slash <= 0 || rest.includes('/', slash + 1)) return undefined;
  try {
    return { server: decodeURIComponent(rest.slice(0, slash)), endpoint: rest.slice(slash + 1) };
  } catch {
    return undefined; // malformed percent-encoding: no route of ours
  }
}

/** The query of a request target (`/x/message?sessionId=…`), without parsing it as a whole URL. */
function queryOf(target: string): string {
  const start = target.indexOf('?');
  if (start < 0) return '';
  const end = target.indexOf('#', start);
  return target.slice(start + 1, end < 0 ? undefined : end);
}

/**
 * A request's body, whole: 'too large' as soon as it passes `limit` (a body without a declared
 * length; the gate refuses a declared one), undefined when the client goes away first.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too large' | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (outcome: Buffer | 'too large' | undefined) => {
      req.off('data', onData).off('end', onEnd).off('close', onClose);
      resolve(outcome);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle('too large');
      else chunks.push(chunk);
    };
    const onEnd = () => settle(Buffer.concat(chunks, size));
    const onClose = () => settle(undefined);
    // An aborted upload errors, then closes.
    req
      .on('data', onData)
      .once('end', onEnd)
      .once('close', onClose)
      .on('error', () => undefined);
  });
}
