import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { BUS_TRANSPORT } from '#bus';
import { decode, SessionClosedEventSchema, sessionClosedWildcard, TokenRevokedEventSchema, tokenRevokedSubject } from '#contracts';
import type { Logger } from '#observability';
import { AccessTokenVerifier } from '../credentials/access-token.verifier.js';
import { EDGE_LOGGER } from '../edge.tokens.js';
import { SessionRelay } from './session-relay.js';

/** What every edge hears (no queue group): sessions that ended on a runner, tokens auth revoked. */
@Controller()
export class EdgeEventsController {
  constructor(
    @Inject(SessionRelay) private readonly relay: Pick<SessionRelay, 'ended'>,
    @Inject(AccessTokenVerifier) private readonly verifier: Pick<AccessTokenVerifier, 'revoked'> | null,
    @Inject(EDGE_LOGGER) private readonly log: Logger,
  ) {}

  @EventPattern<string>(sessionClosedWildcard, BUS_TRANSPORT)
  closed(@Payload() data: Uint8Array): void {
    const event = decode(SessionClosedEventSchema, data);
    if (!event.ok) return this.log.warn({ error: event.error }, 'malformed session closed event, ignored');
    this.relay.ended(event.value.sessionId, event.value.reason);
  }

  @EventPattern<string>(tokenRevokedSubject, BUS_TRANSPORT)
  revoked(@Payload() data: Uint8Array): void {
    const event = decode(TokenRevokedEventSchema, data);
    if (!event.ok) return this.log.warn({ error: event.error }, 'malformed token revocation event, ignored');
    this.verifier?.revoked(event.value);
  }
}
