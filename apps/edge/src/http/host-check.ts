import type { FastifyInstance } from 'fastify';
import { errorResponse, JsonRpcCode } from '#contracts';
import { isLoopbackHostname } from '#config';

/**
 * The Host names the edge answers: baseURL's, `allowedHosts`, and every loopback name when
 * baseURL's is one. A page on another name that resolves to the gateway (DNS rebinding) is refused.
 */
export class HostPolicy {
  private readonly names: ReadonlySet<string>;
  private readonly loopback: boolean;

  constructor(baseURL: string, allowedHosts: readonly string[]) {
    const own = new URL(baseURL).hostname.toLowerCase();
    this.names = new Set([own, ...allowedHosts.map((h) => h.toLowerCase())]);
    this.loopback = isLoopbackHostname(own);
  }

  allows(host: string | undefined): boolean {
    const hostname = hostnameOf(host);
    return hostname !== undefined && (this.names.has(hostname) || (this.loopback && isLoopbackHostname(hostname)));
  }
}

/** A Host header is a name (or bracketed IPv6 address) and an optional port; anything else names no host. */
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::\d{1,5})?$/;

function hostnameOf(host: string | undefined): string | undefined {
  return HOST.exec((host ?? '').toLowerCase())?.[1];
}

/** Refuses every request whose Host the policy does not allow, except the probes (which orchestrators send by IP). */
export function refuseForeignHosts(fastify: FastifyInstance, policy: HostPolicy, basePath: string): void {
  const probes = new Set([`${basePath}/health`, `${basePath}/ready`]);
  // Callback-style, as the edge's other request hooks: an async hook costs a promise and a turn per request.
  fastify.addHook('onRequest', (req, reply, done) => {
    if (probes.has(req.url.split('?')[0] ?? '') || policy.allows(req.headers.host)) return done();
    const message = 'Forbidden: this Host is not served here (see proxy.allowedHosts)';
    void reply
      .status(403)
      .header('content-type', 'application/json')
      .send(errorResponse(null, JsonRpcCode.invalidRequest, message));
  });
}
