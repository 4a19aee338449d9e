import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AUTH_SERVICES, type AuthServices } from '../auth.services.js';
import type { ReadSession } from '../browser/sealed-browser-sessions.js';
import type { BrowserAnswer } from '../oauth/authorize/login-flow.js';
import { PageError } from '../oauth/oauth-error.js';
import { formOf, queryOf } from '../oauth/params.js';
import { signedOutAnswer } from './person-pages.js';

/**
 * The person's pages at mcp-front's routes (/my/tokens, /oauth/services, /oauth/connect, ...).
 * Without a browser session a GET goes through the identity provider's login and comes back; a
 * POST is refused (its form came from a session that has ended).
 */
@Controller()
export class PersonPagesController {
  constructor(@Inject(AUTH_SERVICES) private readonly auth: AuthServices) {}

  @Get(['my/tokens', 'oauth/services'])
  async tokens(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.page(req, reply, (signedIn) => this.auth.pages.tokens(signedIn, queryOf(req.url).get('notice')));
  }

  @Post('my/tokens/set')
  async setToken(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    await this.change(req, reply, body, (signedIn, form) => this.auth.pages.setToken(signedIn, form));
  }

  @Post('my/tokens/delete')
  async deleteToken(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    await this.change(req, reply, body, (signedIn, form) => this.auth.pages.deleteToken(signedIn, form, 'manual'));
  }

  @Post('my/applications/revoke')
  async revoke(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    await this.change(req, reply, body, (signedIn, form) => this.auth.pages.revokeApplication(signedIn, form));
  }

  @Post('my/logout')
  async logout(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    const { gatewayName, basePath } = this.auth.pageOptions;
    await this.change(req, reply, body, () => Promise.resolve(signedOutAnswer(gatewayName, basePath, this.auth.sessions.end())));
  }

  @Get('oauth/connect')
  async connect(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.page(req, reply, (signedIn) => this.auth.pages.connect(signedIn, queryOf(req.url).get('service')));
  }

  @Get('oauth/callback/:service')
  async connected(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Param('service') service: string): Promise<void> {
    const callbackUrl = new URL(req.url, this.auth.issuer);
    // Signed out meanwhile: back to the tokens page after signing in, not to this URL (its code is spent and stays out of the database).
    const back = `${this.auth.pageOptions.basePath}/my/tokens`;
    await this.page(req, reply, (signedIn) => this.auth.pages.connected(signedIn, service, callbackUrl), back);
  }

  @Post('oauth/disconnect')
  async disconnect(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Body() body: unknown): Promise<void> {
    await this.change(req, reply, body, (signedIn, form) => this.auth.pages.deleteToken(signedIn, form, 'oauth'));
  }

  @Get('oauth/complete')
  async complete(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.page(req, reply, (signedIn) => this.auth.pages.complete(signedIn, queryOf(req.url).get('service')));
  }

  private async page(
    req: FastifyRequest,
    reply: FastifyReply,
    show: (signedIn: ReadSession) => Promise<BrowserAnswer>,
    returnTo = req.url,
  ): Promise<void> {
    const signedIn = this.auth.loginFlow.signedIn(req.headers.cookie);
    await send(reply, signedIn ? await show(signedIn) : await this.auth.loginFlow.signIn(returnTo));
  }

  private async change(
    req: FastifyRequest,
    reply: FastifyReply,
    body: unknown,
    act: (signedIn: ReadSession, form: URLSearchParams) => Promise<BrowserAnswer>,
  ): Promise<void> {
    const signedIn = this.auth.loginFlow.signedIn(req.headers.cookie);
    if (!signedIn) throw new PageError('You are signed out', 'Your sign-in has ended. Open your tokens page again to sign in.', 403);
    const form = formOf(body);
    this.auth.pages.checkForm(signedIn.session, form);
    await send(reply, await act(signedIn, form));
  }
}

async function send(reply: FastifyReply, answer: BrowserAnswer): Promise<void> {
  await reply.status(answer.status).headers(answer.headers).send(answer.body);
}
