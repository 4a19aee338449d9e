import { Controller, Inject } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { FastifyInstance } from 'fastify';
import { BUS_TRANSPORT } from '#bus';
import { AuthHttpRequestSchema, AuthHttpResponseSchema, authHttpQueue, authHttpSubject, decode, encode } from '#contracts';
import { traceHeadersOf, type Logger, type Tracing } from '#observability';
import { AUTH_TRACING } from '../auth-tracing.js';

export const AUTH_LOGGER = Symbol('AuthLogger');

/** Answers edge's relayed HTTP requests with in-process request injection: auth has no port. */
@Controller()
export class HttpOverBusController {
  constructor(
    @Inject(HttpAdapterHost) private readonly adapter: HttpAdapterHost,
    @Inject(AUTH_LOGGER) private readonly log: Logger,
    @Inject(AUTH_TRACING) private readonly tracing: Tracing,
  ) {}

  @MessagePattern(authHttpSubject, BUS_TRANSPORT, { queue: authHttpQueue })
  async relay(@Payload() data: Uint8Array): Promise<Uint8Array> {
    const request = decode(AuthHttpRequestSchema, data);
    if (!request.ok) {
      this.log.warn({ error: request.error }, 'malformed relayed HTTP request');
      return encode(AuthHttpResponseSchema, { status: 400, headers: {}, body: '' });
    }
    const { method, url, headers, body, clientIp } = request.value;
    const fastify = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    // The path only, never the query: it may carry an authorization code or state.
    const span = this.tracing.enabled
      ? this.tracing.start(
          `auth ${method}`,
          { 'http.request.method': method, 'url.path': url.split('?')[0] ?? '' },
          traceHeadersOf(headers),
        )
      : undefined;
    let response;
    try {
      response = await fastify.inject({ method, url, headers, payload: Buffer.from(body, 'base64'), remoteAddress: clientIp });
      span?.end(response.statusCode < 500 ? 'ok' : 'error');
    } catch (err) {
      span?.end('error');
      // Edges relay what Node already parsed; a request no HTTP server would take came from elsewhere.
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'relayed HTTP request could not be injected');
      return encode(AuthHttpResponseSchema, { status: 400, headers: {}, body: '' });
    }
    const outHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) outHeaders[name] = Array.isArray(value) ? value : String(value);
    }
    return encode(AuthHttpResponseSchema, {
      status: response.statusCode,
      headers: outHeaders,
      body: response.rawPayload.toString('base64'),
    });
  }
}
