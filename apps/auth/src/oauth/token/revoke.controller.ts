import { Body, Controller, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { sha256Base64Url } from '#crypto';
import { AUTH_SERVICES, type AuthServices } from '../../auth.services.js';
import { required } from '../params.js';
import { requireForm } from './token.controller.js';

/**
 * RFC 7009 revocation. A refresh token ends its whole grant; an access token is denied by every
 * edge until it expires. Unknown tokens, and tokens of other clients, get the same 200 (§2.2).
 */
@Controller()
export class RevokeController {
  constructor(@Inject(AUTH_SERVICES) private readonly auth: AuthServices) {}

  @Post('revoke')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  async revoke(@Req() req: FastifyRequest, @Body() body: unknown): Promise<Record<string, never>> {
    const form = requireForm(req, body);
    const client = await this.auth.clients.authenticate(req.headers.authorization, form);
    const token = required(form, 'token');
    const refresh = await this.auth.store.refreshTokens.find(sha256Base64Url(token));
    if (refresh) {
      const grant = await this.auth.store.grants.find(refresh.grantId);
      if (grant?.clientId === client.clientId) await this.auth.revocations.revokeGrant(grant.id, 'revoked by its client');
      return {};
    }
    const claims = await this.auth.keys.verifyOwn(token, this.auth.issuer);
    if (claims?.client_id === client.clientId && typeof claims.jti === 'string' && typeof claims.exp === 'number') {
      const holder = { clientId: client.clientId, ...(typeof claims.sub === 'string' && { sub: claims.sub }) };
      await this.auth.revocations.revokeAccessToken(claims.jti, claims.exp * 1000, holder);
    }
    return {};
  }
}
