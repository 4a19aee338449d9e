import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { BusTransport, type Bus } from '#bus';
import { errorResponse, JsonRpcCode } from '#contracts';
import type { ListenAddress } from '#config';
import { NestPinoLogger } from '#observability';
import { EdgeModule, type EdgeOptions } from './edge.module.js';
import { McpRoutes } from './mcp/mcp-routes.js';
import { HostPolicy, refuseForeignHosts } from './http/host-check.js';
import { httpServerLimits, refuseTooManyHeaders } from './http/http-limits.js';
import { countHttpRequests } from './http/http-metrics.js';
import { wellKnownPathInsertion } from './metadata/path-insertion.js';

export interface RunningEdge {
  /** The address actually bound (port 0 picks a free one). */
  address: ListenAddress;
  close(): Promise<void>;
}

/** Past this much of a refused body, the connection is cut instead of read to its end. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * A declared body over the limit gets 413 at once, and the body is read and dropped so the
 * connection stays usable. Closing with the body unread (Fastify's way) makes the kernel reset
 * the connection, and the client often loses the 413 itself.
 */
function refuseOversizeBodies(fastify: FastifyInstance, limit: number): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    if (!(Number(req.headers['content-length'] ?? 0) > limit)) return done();
    let drained = 0;
    req.raw.on('data', (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_LIMIT_BYTES) req.raw.destroy();
    });
    req.raw.resume();
    const error = errorResponse(null, JsonRpcCode.invalidRequest, `Request body is larger than the limit of ${limit} bytes`);
    void reply.status(413).header('content-type', 'application/json').send(error);
  });
}

/** Starts the public ingress on `addr`. */
export async function startEdge(bus: Bus, options: EdgeOptions, addr: ListenAddress): Promise<RunningEdge> {
  const { basePath } = options.config.proxy;
  const rewriteUrl = wellKnownPathInsertion(basePath);
  // Open SSE streams never finish by themselves: on close they are cut, or shutdown would hang.
  const adapter = new FastifyAdapter({
    bodyLimit: options.config.proxy.limits.maxBodyBytes,
    logger: false,
    forceCloseConnections: true,
    ...httpServerLimits,
    ...(rewriteUrl && { rewriteUrl }),
  });
  const app = await NestFactory.create<NestFastifyApplication>(EdgeModule.forRoot(bus, options), adapter, {
    bodyParser: false,
    logger: new NestPinoLogger(options.log),
  });
  // Bodies stay raw: the MCP handlers answer bad JSON with a JSON-RPC parse error, auth gets forms as sent.
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  if (options.metrics.enabled) countHttpRequests(fastify, options.metrics);
  refuseForeignHosts(fastify, new HostPolicy(options.config.proxy.baseURL, options.config.proxy.allowedHosts), basePath);
  refuseOversizeBodies(fastify, options.config.proxy.limits.maxBodyBytes);
  refuseTooManyHeaders(fastify);
  if (basePath) app.setGlobalPrefix(basePath);
  app.get(McpRoutes).register(fastify, basePath);
  const onError = (err: unknown, subject: string) => options.log.error({ err, subject }, 'edge event handler failed');
  app.connectMicroservice({ strategy: new BusTransport({ bus, onError }) });
  await app.startAllMicroservices();
  // Ready means ready: NATS has confirmed the subscriptions before anyone is told the edge listens.
  await bus.flush();
  await app.listen(addr.port, addr.host);
  const bound = fastify.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : addr.port;
  return { address: { host: addr.host, port }, close: () => app.close() };
}
