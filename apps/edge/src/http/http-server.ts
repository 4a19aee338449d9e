import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { httpServerLimits, MAX_HEADER_COUNT } from './http-limits.js';

export type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** What Fastify hands a server factory (typed as a plain record): its options, with its defaults filled in. */
export interface ServerOptions {
  http?: object;
  keepAliveTimeout: number;
  requestTimeout: number;
  connectionTimeout: number;
  maxRequestsPerSocket?: number;
}

/** The HTTP server Fastify would make from its options (`http`, and its timeouts), answering with `listener`. */
export function httpServer(options: ServerOptions, listener: Listener): Server {
  const server = createServer(options.http ?? {}, listener);
  server.keepAliveTimeout = options.keepAliveTimeout;
  server.requestTimeout = options.requestTimeout;
  server.setTimeout(options.connectionTimeout);
  if ((options.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = options.maxRequestsPerSocket ?? 0;
  // Node keeps the first `maxHeadersCount` fields and silently ignores the rest, which could hide
  // a header such as Origin from the checks: one field over the limit is kept so it can be refused.
  server.maxHeadersCount = MAX_HEADER_COUNT + 1;
  return server;
}

/** The addresses `localhost` resolved to that `main` does not listen on. */
export function otherLoopbacks(main: Server, resolved: readonly { address: string }[]): string[] {
  const primary = main.address();
  return resolved.map((r) => r.address).filter((address) => typeof primary !== 'object' || primary?.address !== address);
}

/**
 * Listens on `addresses` too, on the same port, each with a server from `make`: Fastify does this
 * for every address of `localhost` (127.0.0.1 and, where the host has it, ::1), except with a
 * server factory. An address that cannot be bound (IPv6 turned off) is skipped, as Fastify skips it.
 */
export async function listenAlsoOn(addresses: readonly string[], port: number, make: () => Server): Promise<Server[]> {
  const servers: Server[] = [];
  for (const address of addresses) {
    const server = make();
    // Fastify answers refused requests on the server it listens on; these answer them the same way.
    server.on('clientError', httpServerLimits.clientErrorHandler);
    const listening = await new Promise<boolean>((resolve) =>
      server.once('error', () => resolve(false)).listen(port, address, () => resolve(true)),
    );
    if (listening) servers.push(server);
  }
  return servers;
}
