import { Controller, Inject } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { BUS_TRANSPORT } from '#bus';
import {
  AuthJwksReplySchema,
  authJwksQueue,
  authJwksSubject,
  encode,
  RevocationsListReplySchema,
  revocationsListQueue,
  revocationsListSubject,
} from '#contracts';
import { AUTH_SERVICES, type AuthServices } from '../auth.services.js';

/** How stale the keys an edge is given may be (another replica may have rotated). */
const JWKS_FRESH_MS = 2_000;

/** What edges need to check tokens locally: the public signing keys, and the revocations still in force. */
@Controller()
export class KeysAndRevocationsController {
  constructor(@Inject(AUTH_SERVICES) private readonly services: AuthServices) {}

  @MessagePattern(authJwksSubject, BUS_TRANSPORT, { queue: authJwksQueue })
  async jwks(): Promise<Uint8Array> {
    await this.services.keys.reloadIfOlderThan(JWKS_FRESH_MS);
    return encode(AuthJwksReplySchema, this.services.keys.jwks());
  }

  @MessagePattern(revocationsListSubject, BUS_TRANSPORT, { queue: revocationsListQueue })
  async revocations(): Promise<Uint8Array> {
    const revocations = await this.services.store.revocations.listActive(Date.now());
    return encode(RevocationsListReplySchema, { revocations });
  }
}
