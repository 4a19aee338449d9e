import { GatehouseError } from '#contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Logger, Metrics } from '#observability';
import { sendError, type McpHttpRequest } from './http-io.js';
import { McpErrors } from './mcp-errors.js';
import { refusedMethods, requestMeter } from './request-meter.js';
import type { LegacySseHandler } from './legacy-sse.handler.js';
import type { StreamableHttpHandler } from './streamable-http.handler.js';

type Handler = (req: McpHttpRequest, res: ServerResponse, server: string) => Promise<void>;

/**
 * The MCP transports' routes, registered on Fastify itself rather than through Nest's router:
 * every message of every call comes through them, and Nest's routing (its execution context,
 * interceptors and parameter decorators, none of which these routes use) was work on each of
 * them. Fastify's hooks (host check, body and header limits, metrics) run for them as for every
 * route; the handlers know nothing of the framework.
 */
export class McpRoutes {
  constructor(
    private readonly streamable: StreamableHttpHandler,
    private readonly legacy: LegacySseHandler,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /** Adds the routes under `basePath` ('' or '/prefix'). */
  register(fastify: FastifyInstance, basePath: string): void {
    const route = (method: 'GET' | 'POST' | 'DELETE', path: string, handler: Handler) =>
      fastify.route<{ Params: { server: string } }>({
        method,
        url: `${basePath}/:server/${path}`,
        handler: (req, reply) => this.run(handler, req.params.server, req, reply),
      });
    route('POST', 'mcp', (q, r, s) => this.streamable.post(q, r, s));
    route('GET', 'mcp', (q, r, s) => this.streamable.get(q, r, s));
    route('DELETE', 'mcp', (q, r, s) => this.streamable.delete(q, r, s));
    route('GET', 'sse', (q, r, s) => this.legacy.stream(q, r, s));
    route('POST', 'message', (q, r, s) => this.legacy.message(q, r, s));
  }

  private async run(handler: Handler, server: string, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const receivedAt = performance.now();
    reply.hijack();
    const res = reply.raw;
    const request: McpHttpRequest = {
      method: req.method,
      headers: req.headers,
      // Made when read: only the legacy transport's message endpoint has a query.
      get query() {
        return new URLSearchParams(queryOf(req.url));
      },
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
      clientAddress: req.ip,
      receivedAt,
      // The client may already be gone by the time a handler registers (it awaits first).
      onClose: (listener) => (res.closed ? queueMicrotask(listener) : res.once('close', listener)),
    };
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

/** The query of a request target (`/x/message?sessionId=…`), without parsing it as a whole URL. */
function queryOf(target: string): string {
  const start = target.indexOf('?');
  if (start < 0) return '';
  const end = target.indexOf('#', start);
  return target.slice(start + 1, end < 0 ? undefined : end);
}
