import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { BUS_TRANSPORT } from '#bus';
import {
  decode,
  encode,
  UserCredentialReplySchema,
  UserCredentialRequestSchema,
  userCredentialQueue,
  userCredentialSubject,
} from '#contracts';
import type { Tracing } from '#observability';
import { AUTH_SERVICES, type AuthServices } from '../auth.services.js';
import { AUTH_TRACING } from '../auth-tracing.js';

/** A runner asks for one person's credential for one server (gh.auth.credentials.get); every request gets a reply. */
@Controller()
export class UserCredentialController {
  constructor(
    @Inject(AUTH_SERVICES) private readonly services: AuthServices,
    @Inject(AUTH_TRACING) private readonly tracing: Tracing,
  ) {}

  @MessagePattern(userCredentialSubject, BUS_TRANSPORT, { queue: userCredentialQueue })
  async get(@Payload() data: Uint8Array): Promise<Uint8Array> {
    const request = decode(UserCredentialRequestSchema, data);
    if (!request.ok) {
      this.services.log.warn({ error: request.error }, 'malformed user credential request');
      return encode(UserCredentialReplySchema, { status: 'unavailable', message: 'Malformed credential request.' });
    }
    const { sub, server, rejected } = request.value;
    // In the trace of the runner's request (its bus headers); never the sub, never the credential.
    const span = this.tracing.enabled ? this.tracing.start('auth credentials.get', { 'mcp.server': server }) : undefined;
    let answer;
    try {
      answer = await this.services.userCredentials.credentialFor(sub, server, rejected);
    } catch (err) {
      span?.end('error');
      throw err;
    }
    span?.end(answer.status === 'ok' ? 'ok' : answer.status === 'missing' ? 'refused' : 'error');
    return encode(UserCredentialReplySchema, answer);
  }
}
