import type { FastifyInstance } from 'fastify';
import type { Metrics } from '#observability';

/**
 * Counts every request by its route's pattern once its connection is done with it: answered,
 * or cut (a stream the client closed). Registered before the other hooks, so their refusals count.
 */
export function countHttpRequests(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.addHook('onRequest', (req, reply, done) => {
    const { url } = req.routeOptions;
    const res = reply.raw;
    res.once('close', () => metrics.httpRequest(url ?? '', req.method, res.headersSent ? res.statusCode : undefined));
    done();
  });
}
