import { Body, Controller, Get, Inject, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_SERVICES, type AuthServices } from '../../auth.services.js';
import { throttled } from '../ip-rate-limit.js';
import { PageError } from '../oauth-error.js';
import { formOf, queryOf } from '../params.js';
import type { BrowserAnswer } from './login-flow.js';

/** The browser's routes: /authorize (consent page), the consent form, and the identity provider's callback. */
@Controller()
export class AuthorizeController {
  constructor(@Inject(AUTH_SERVICES) private readonly auth: AuthServices) {}

  @Get('authorize')
  async authorize(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    if (throttled(this.auth.rateLimits.authorize, req.ip, reply)) {
      throw new PageError(
        'Too many sign-in attempts',
        'Too many sign-in requests came from your address. Wait a minute and try again.',
        429,
      );
    }
    const request = await this.auth.authorizationChecks.check(queryOf(req.url));
    await send(reply, await this.auth.loginFlow.begin(request, req.headers.cookie));
  }

  @Post('oauth/consent')
  async consent(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    await send(reply, await this.auth.loginFlow.decide(formOf(body), req.headers.cookie));
  }

  @Get('oauth/callback')
  async callback(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await send(reply, await this.auth.loginFlow.complete(new URL(req.url, this.auth.issuer), req.headers.cookie));
  }
}

async function send(reply: FastifyReply, answer: BrowserAnswer): Promise<void> {
  await reply.status(answer.status).headers(answer.headers).send(answer.body);
}
