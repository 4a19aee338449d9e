import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BUS, BusNoRespondersError, BusTimeoutError, type Bus } from '#bus';
import { AuthHttpRequestSchema, AuthHttpResponseSchema, authHttpSubject, decode, encode } from '#contracts';
import { traceHeadersOf, type Logger, type Tracing } from '#observability';
import { EDGE_LOGGER, EDGE_TRACING } from '../edge.tokens.js';
import { pathOf } from '../mcp/http-io.js';

/** Auth's IdP callback makes up to three sequential calls to the identity provider, 10 s each. */
const AUTH_TIMEOUT_MS = 30_000;
/** Hop-by-hop and framing headers are the edge's own business on each side. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade', 'host']);

/** OAuth and browser routes, relayed to auth as HTTP-over-bus: one public origin serves both. */
@Controller()
export class AuthHttpController {
  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(EDGE_LOGGER) private readonly log: Logger,
    @Inject(EDGE_TRACING) private readonly tracing: Tracing,
  ) {}

  @All([
    'authorize',
    'token',
    'register',
    'revoke',
    '.well-known/oauth-authorization-server',
    '.well-known/openid-configuration',
    '.well-known/jwks.json',
    'oauth/*',
    'my/*',
    'clients/*',
  ])
  async relay(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const body = Buffer.isBuffer(req.body) ? req.body.toString('base64') : '';
    const payload = encode(AuthHttpRequestSchema, { method: req.method, url: req.url, headers, body, clientIp: req.ip });
    try {
      // The client's trace goes on to auth, which starts its span in it.
      const trace = this.tracing.enabled ? traceHeadersOf(req.headers) : undefined;
      const answer = await this.tracing.within(trace, () => this.bus.request(authHttpSubject, payload, { timeoutMs: AUTH_TIMEOUT_MS }));
      const response = decode(AuthHttpResponseSchema, answer.data);
      if (!response.ok) throw new Error(`malformed auth reply: ${response.error}`);
      for (const [name, value] of Object.entries(response.value.headers)) {
        if (!HOP_HEADERS.has(name.toLowerCase())) void reply.header(name, value);
      }
      await reply.status(response.value.status).send(Buffer.from(response.value.body, 'base64'));
    } catch (err) {
      const unreachable = err instanceof BusNoRespondersError || err instanceof BusTimeoutError;
      // The path only: a query may carry an authorization code or state.
      if (!unreachable) this.log.error({ err, path: pathOf(req.url) }, 'auth relay failed');
      await reply
        .status(503)
        .header('content-type', 'application/json')
        .send({ error: 'temporarily_unavailable', error_description: 'the auth service is not reachable' });
    }
  }
}
