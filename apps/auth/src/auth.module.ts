import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { BUS, type Bus } from '#bus';
import type { GatehouseConfig } from '#config';
import type { Logger } from '#observability';

export interface AuthOptions {
  config: GatehouseConfig;
  log: Logger;
}

export const AUTH_OPTIONS = Symbol('AuthOptions');

class AuthLifecycle implements OnApplicationShutdown {
  constructor(@Inject(AUTH_OPTIONS) private readonly options: AuthOptions) {}

  onApplicationShutdown(): void {
    this.options.log.info('auth stopped');
  }
}

/**
 * The OAuth authorization server and identity-provider client. Its routes are reached only
 * through edge's relay; this milestone has none yet, so every relayed route answers 404.
 */
@Module({})
export class AuthModule {
  static forRoot(bus: Bus, options: AuthOptions): DynamicModule {
    return {
      module: AuthModule,
      providers: [{ provide: BUS, useValue: bus }, { provide: AUTH_OPTIONS, useValue: options }, AuthLifecycle],
    };
  }
}
