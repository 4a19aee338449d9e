import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { BUS, type Bus } from '#bus';
import type { Logger, Tracing } from '#observability';
import { AUTH_TRACING } from './auth-tracing.js';
import { AUTH_SERVICES, type AuthServices } from './auth.services.js';
import { AUDIT_LOG, AUDIT_LOGGER, AuditController } from './audit/audit.controller.js';
import type { AuditLog } from './audit/audit-log.js';
import { UserCredentialController } from './credentials/user-credential.controller.js';
import { AuthorizeController } from './oauth/authorize/authorize.controller.js';
import { MetadataController } from './oauth/metadata.controller.js';
import { OAuthErrorFilter } from './oauth/oauth-error.filter.js';
import { RegisterController } from './oauth/register/register.controller.js';
import { RevokeController } from './oauth/token/revoke.controller.js';
import { TokenController } from './oauth/token/token.controller.js';
import { KeysAndRevocationsController } from './tokens/keys-and-revocations.controller.js';
import { AUTH_LOGGER, HttpOverBusController } from './web/http-over-bus.controller.js';
import { PersonPagesController } from './web/person-pages.controller.js';

/**
 * The OAuth authorization server and identity-provider client. Its routes are reached only
 * through edge's relay. Without `proxy.auth` it has no routes, and every relayed route is a 404.
 */
@Module({})
export class AuthModule {
  static forRoot(
    bus: Bus,
    log: Logger,
    services: AuthServices | undefined,
    gatewayName: string,
    tracing: Tracing,
    audit?: AuditLog,
  ): DynamicModule {
    return {
      module: AuthModule,
      controllers: [
        HttpOverBusController,
        ...(audit ? [AuditController] : []),
        ...(services
          ? [
              MetadataController,
              RegisterController,
              AuthorizeController,
              PersonPagesController,
              TokenController,
              RevokeController,
              KeysAndRevocationsController,
              UserCredentialController,
            ]
          : []),
      ],
      providers: [
        { provide: BUS, useValue: bus },
        { provide: AUTH_LOGGER, useValue: log },
        { provide: AUTH_TRACING, useValue: tracing },
        { provide: APP_FILTER, useValue: new OAuthErrorFilter(log, gatewayName) },
        ...(services ? [{ provide: AUTH_SERVICES, useValue: services }] : []),
        ...(audit
          ? [
              { provide: AUDIT_LOG, useValue: audit },
              { provide: AUDIT_LOGGER, useValue: log },
            ]
          : []),
      ],
    };
  }
}
