import { GatehouseError } from '#contracts';
import { Controller, Delete, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { Logger, Metrics } from '#observability';
import { EDGE_LOGGER, EDGE_METRICS } from '../edge.tokens.js';
import { sendError, type McpHttpRequest } from './http-io.js';
import { McpErrors } from './mcp-errors.js';
import { refusedMethods, requestMeter } from './request-meter.js';
import { LegacySseHandler } from './legacy-sse.handler.js';
import { StreamableHttpHandler } from './streamable-http.handler.js';

type Handler = (req: McpHttpRequest, res: ServerResponse, server: string) => Promise<void>;

/** Fastify glue for the MCP transports: the handlers know nothing of the framework. */
@Controller()
export class McpController {
  constructor(
    @Inject(StreamableHttpHandler) private readonly streamable: StreamableHttpHandler,
    @Inject(LegacySseHandler) private readonly legacy: LegacySseHandler,
    @Inject(EDGE_LOGGER) private readonly log: Logger,
    @Inject(EDGE_METRICS) private readonly metrics: Metrics,
  ) {}

  @Post(':server/mcp')
  postMcp(@Param('server') server: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.run((q, r, s) => this.streamable.post(q, r, s), server, req, reply);
  }

  @Get(':server/mcp')
  getMcp(@Param('server') server: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.run((q, r, s) => this.streamable.get(q, r, s), server, req, reply);
  }

  @Delete(':server/mcp')
  deleteMcp(@Param('server') server: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.run((q, r, s) => this.streamable.delete(q, r, s), server, req, reply);
  }

  @Get(':server/sse')
  getSse(@Param('server') server: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.run((q, r, s) => this.legacy.stream(q, r, s), server, req, reply);
  }

  @Post(':server/message')
  postMessage(@Param('server') server: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.run((q, r, s) => this.legacy.message(q, r, s), server, req, reply);
  }

  private async run(handler: Handler, server: string, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const receivedAt = performance.now();
    reply.hijack();
    const res = reply.raw;
    const request: McpHttpRequest = {
      method: req.method,
      headers: req.headers,
      query: new URLSearchParams(queryOf(req.url)),
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
