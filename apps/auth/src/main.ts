import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Bus } from '#bus';
import { NestPinoLogger } from '#observability';
import { AuthModule, type AuthOptions } from './auth.module.js';
import { HttpOverBus } from './web/http-over-bus.js';

export interface RunningAuth {
  close(): Promise<void>;
}

/** Starts auth without a port: its HTTP routes are injected from bus requests. */
export async function startAuth(bus: Bus, options: AuthOptions): Promise<RunningAuth> {
  const app = await NestFactory.create<NestFastifyApplication>(AuthModule.forRoot(bus, options), new FastifyAdapter(), {
    logger: new NestPinoLogger(options.log),
  });
  if (options.config.proxy.basePath) app.setGlobalPrefix(options.config.proxy.basePath);
  await app.init();
  const relay = new HttpOverBus(bus, app.getHttpAdapter().getInstance(), options.log);
  relay.start();
  options.log.info('auth ready');
  return {
    close: async () => {
      relay.stop();
      await app.close();
    },
  };
}
