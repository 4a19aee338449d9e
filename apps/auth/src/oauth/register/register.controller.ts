import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_SERVICES, type AuthServices } from '../../auth.services.js';
import { throttled } from '../ip-rate-limit.js';
import { OAuthError } from '../oauth-error.js';
import { describeClient, type RegisteredClient } from './client-registration.js';

/** RFC 7591 dynamic registration, and a registered client's public metadata. */
@Controller()
export class RegisterController {
  constructor(@Inject(AUTH_SERVICES) private readonly auth: AuthServices) {}

  @Post('register')
  @HttpCode(201)
  @Header('cache-control', 'no-store')
  async register(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Body() body: unknown,
  ): Promise<RegisteredClient> {
    if (throttled(this.auth.rateLimits.register, req.ip, reply)) {
      throw new OAuthError('temporarily_unavailable', 'too many registrations from this address; retry later', 429);
    }
    const client = await this.auth.registration.register(body);
    this.auth.log.info({ clientId: client.client_id, clientName: client.client_name }, 'client registered');
    return client;
  }

  @Get('clients/:id')
  async client(@Param('id') id: string): Promise<ReturnType<typeof describeClient>> {
    const client = await this.auth.store.clients.find(id);
    if (!client) throw new OAuthError('invalid_client', 'unknown client', 404);
    return describeClient(client);
  }
}
