import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '#observability';

/**
 * Counts every request of Fastify's routes by its route's pattern once its connection is done with
 * it: answered, or cut (a stream the client closed). Registered before the other hooks, so their
 * refusals count.
 */
export function countHttpRequests(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    countHttpRequest(metrics, reply.raw, req.routeOptions.url ?? '', req.method);
    done();
  });
}

/** Counts one request under its route's pattern when its response is done. */
export function countHttpRequest(metrics: Metrics, res: ServerResponse, route: string, method: string): void {
  res.once('close', () => metrics.httpRequest(route, method, res.headersSent ? res.statusCode : undefined));
}
