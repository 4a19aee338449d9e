import { Body, Controller, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AUTH_SERVICES, type AuthServices } from '../../auth.services.js';
import type { TokenResponse } from '../../tokens/token-issuer.js';
import { OAuthError } from '../oauth-error.js';
import { formOf, single } from '../params.js';

/** The token endpoint (RFC 6749 §3.2): authorization_code with PKCE, and refresh_token. */
@Controller()
export class TokenController {
  constructor(@Inject(AUTH_SERVICES) private readonly auth: AuthServices) {}

  @Post('token')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Header('pragma', 'no-cache')
  async token(@Req() req: FastifyRequest, @Body() body: unknown): Promise<TokenResponse> {
    const form = requireForm(req, body);
    const grantType = single(form, 'grant_type');
    const client = await this.auth.clients.authenticate(req.headers.authorization, form);
    if (grantType === 'authorization_code') return this.auth.grants.authorizationCode(client, form);
    if (grantType === 'refresh_token') return this.auth.grants.refreshToken(client, form);
    throw new OAuthError('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  }
}

/** /token and /revoke take form bodies only (RFC 6749 §3.2, RFC 7009 §2.1). */
export function requireForm(req: FastifyRequest, body: unknown): URLSearchParams {
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', 'send the parameters as application/x-www-form-urlencoded');
  }
  return formOf(body);
}
