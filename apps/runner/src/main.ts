import { NestFactory } from '@nestjs/core';
import { BusTransport, type Bus } from '#bus';
import { NestPinoLogger } from '#observability';
import { RunnerModule } from './runner.module.js';
import { RunnerService, type RunnerOptions } from './runner.service.js';

export interface RunningRunner {
  close(): Promise<void>;
}

/** Starts a runner: no port, only the bus. Resolves once NATS has confirmed its subscriptions. */
export async function startRunner(bus: Bus, options: RunnerOptions): Promise<RunningRunner> {
  const { log, groups, runnerId } = options;
  const strategy = new BusTransport({
    bus,
    params: { group: groups, runnerId: [runnerId] },
    onError: (err, subject) => log.error({ err, subject }, 'runner control handler failed'),
  });
  const app = await NestFactory.createMicroservice(RunnerModule.forRoot(bus, options), { strategy, logger: new NestPinoLogger(log) });
  await app.listen();
  await bus.flush();
  const service = app.get(RunnerService);
  return {
    close: async () => {
      // Sessions end first, so an open still waiting for a backend fails now instead of holding up the close.
      await service.shutdown();
      await app.close();
    },
  };
}
