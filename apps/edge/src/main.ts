import { lookup } from 'node:dns/promises';
import type { Server } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyServerFactory } from 'fastify';
import { BusTransport, type Bus } from '#bus';
import type { ListenAddress } from '#config';
import { NestPinoLogger } from '#observability';
import { EdgeModule, type EdgeOptions } from './edge.module.js';
import { McpRoutes, type McpDispatch } from './mcp/mcp-routes.js';
import { HostPolicy } from './http/host-check.js';
import { httpServerLimits } from './http/http-limits.js';
import { httpServer, listenAlsoOn, otherLoopbacks, type Listener, type ServerOptions } from './http/http-server.js';
import { countHttpRequests } from './http/http-metrics.js';
import { RequestGate } from './http/request-gate.js';
import { wellKnownPathInsertion } from './metadata/path-insertion.js';

export interface RunningEdge {
  /** The address actually bound (port 0 picks a free one). */
  address: ListenAddress;
  close(): Promise<void>;
}

/** Starts the public ingress on `addr`. */
export async function startEdge(bus: Bus, options: EdgeOptions, addr: ListenAddress): Promise<RunningEdge> {
  const { basePath } = options.config.proxy;
  const rewriteUrl = wellKnownPathInsertion(basePath);
  const { maxBodyBytes } = options.config.proxy.limits;
  // The MCP routes take their requests before Fastify sees them (see McpRoutes); set before listening.
  const mcp: { dispatch?: McpDispatch } = {};
  let makeServer: (() => Server) | undefined;
  const serverFactory: FastifyServerFactory<Server> = (fastifyHandler, fastifyOptions) => {
    const listener: Listener = (req, res) => mcp.dispatch?.(req, res) || fastifyHandler(req, res);
    makeServer = () => httpServer(fastifyOptions as unknown as ServerOptions, listener);
    return makeServer();
  };
  const adapter = new FastifyAdapter({
    bodyLimit: maxBodyBytes,
    logger: false,
    // Open SSE streams never finish by themselves: on close they are cut, or shutdown would hang.
    forceCloseConnections: true,
    ...httpServerLimits,
    ...(rewriteUrl && { rewriteUrl }),
    serverFactory,
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
  const gate = new RequestGate(new HostPolicy(options.config.proxy.baseURL, options.config.proxy.allowedHosts), basePath, maxBodyBytes);
  gate.register(fastify);
  if (basePath) app.setGlobalPrefix(basePath);
  mcp.dispatch = app.get(McpRoutes).dispatch(basePath, gate);
  const onError = (err: unknown, subject: string) => options.log.error({ err, subject }, 'edge event handler failed');
  app.connectMicroservice({ strategy: new BusTransport({ bus, onError }) });
  await app.startAllMicroservices();
  // Ready means ready: NATS has confirmed the subscriptions before anyone is told the edge listens.
  await bus.flush();
  await app.listen(addr.port, addr.host);
  const bound = fastify.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : addr.port;
  // Fastify listens on each address of `localhost`, but leaves all but the first to a server factory
  // (and, as Fastify, a lookup that fails leaves the edge on the one it has).
  const loopbacks = addr.host === 'localhost' ? await lookup('localhost', { all: true }).catch(() => []) : [];
  const others = makeServer ? await listenAlsoOn(otherLoopbacks(fastify.server, loopbacks), port, makeServer) : [];
  const close = async () => {
    for (const server of others) {
      server.close();
      server.closeAllConnections();
    }
    await app.close();
  };
  return { address: { host: addr.host, port }, close };
}
