import { NestFactory } from '@nestjs/core';
import type { Bus } from '#bus';
import { NestPinoLogger } from '#observability';
import { RunnerModule } from './runner.module.js';
import type { RunnerOptions } from './runner.service.js';

export interface RunningRunner {
  close(): Promise<void>;
}

/** Starts a runner: no port, only the bus. */
export async function startRunner(bus: Bus, options: RunnerOptions): Promise<RunningRunner> {
  const app = await NestFactory.createApplicationContext(RunnerModule.forRoot(bus, options), {
    logger: new NestPinoLogger(options.log),
  });
  await app.init();
  return { close: () => app.close() };
}
