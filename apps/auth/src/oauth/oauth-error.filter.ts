import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '#observability';
import { errorPage, PAGE_HEADERS } from '../web/html.js';
import { AuthorizationRedirect } from './authorize/authorization-request.js';
import { OAuthError, PageError } from './oauth-error.js';

/** Maps every error of auth's routes to its answer, once: OAuth JSON, a page, or a redirect to the client. */
@Catch()
export class OAuthErrorFilter implements ExceptionFilter {
  constructor(
    private readonly log: Logger,
    /** proxy.name, shown on every page. */
    private readonly gateway: string,
  ) {}

  catch(error: unknown, host: ArgumentsHost): void {
    // Bus handlers answer their own refusals; anything else they throw is the transport's to report.
    if (host.getType() !== 'http') throw error;
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    if (error instanceof AuthorizationRedirect && error.immediate) {
      void reply.status(302).header('location', error.location).header('cache-control', 'no-store').send();
    } else if (error instanceof AuthorizationRedirect) {
      void reply
        .status(400)
        .headers(PAGE_HEADERS)
        .send(errorPage(this.gateway, 'The application sent a request that cannot be used', error.message, error.location));
    } else if (error instanceof PageError) {
      void reply
        .status(error.status)
        .headers(PAGE_HEADERS)
        .send(errorPage(this.gateway, error.title, error.message));
    } else if (error instanceof OAuthError) {
      if (error.code === 'invalid_client') void reply.header('www-authenticate', 'Basic realm="gatehouse"');
      void reply.status(error.status).header('cache-control', 'no-store').send({ error: error.code, error_description: error.message });
    } else if (error instanceof HttpException) {
      void reply.status(error.getStatus()).send({ error: 'invalid_request', error_description: error.message });
    } else {
      const path = http.getRequest<FastifyRequest>().url.split('?')[0];
      this.log.error({ err: error, path }, 'auth route failed');
      void reply.status(500).header('cache-control', 'no-store').send({ error: 'server_error', error_description: 'internal error' });
    }
  }
}
