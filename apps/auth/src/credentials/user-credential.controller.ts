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
import { AUTH_SERVICES, type AuthServices } from '../auth.services.js';

/** A runner asks for one person's credential for one server (gh.auth.credentials.get); every request gets a reply. */
@Controller()
export class UserCredentialController {
  constructor(@Inject(AUTH_SERVICES) private readonly services: AuthServices) {}

  @MessagePattern(userCredentialSubject, BUS_TRANSPORT, { queue: userCredentialQueue })
  async get(@Payload() data: Uint8Array): Promise<Uint8Array> {
    const request = decode(UserCredentialRequestSchema, data);
    if (!request.ok) {
      this.services.log.warn({ error: request.error }, 'malformed user credential request');
      return encode(UserCredentialReplySchema, { status: 'unavailable', message: 'Malformed credential request.' });
    }
    const { sub, server, rejected } = request.value;
    return encode(UserCredentialReplySchema, await this.services.userCredentials.credentialFor(sub, server, rejected));
  }
}
