import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Bus } from '#bus';
import type { ListenAddress } from '#config';
import { NestPinoLogger } from '#observability';
import { EdgeModule, type EdgeOptions } from './edge.module.js';

export interface RunningEdge {
  /** The address actually bound (port 0 picks a free one). */
  address: ListenAddress;
  close(): Promise<void>;
}

/** Starts the public ingress on `addr`. */
export async function startEdge(bus: Bus, options: EdgeOptions, addr: ListenAddress): Promise<RunningEdge> {
  // Open SSE streams never finish by themselves: on close they are cut, or shutdown would hang.
  const adapter = new FastifyAdapter({
    bodyLimit: options.config.proxy.limits.maxBodyBytes,
    logger: false,
    forceCloseConnections: true,
  });
  const app = await NestFactory.create<NestFastifyApplication>(EdgeModule.forRoot(bus, options), adapter, {
    bodyParser: false,
    logger: new NestPinoLogger(options.log),
  });
  // Bodies stay raw: the MCP handlers answer bad JSON with a JSON-RPC parse error, auth gets forms as sent.
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  if (options.config.proxy.basePath) app.setGlobalPrefix(options.config.proxy.basePath);
  await app.listen(addr.port, addr.host);
  const bound = fastify.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : addr.port;
  return { address: { host: addr.host, port }, close: () => app.close() };
}
