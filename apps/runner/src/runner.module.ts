import { Module, type DynamicModule } from '@nestjs/common';
import { BUS, type Bus } from '#bus';
import { RUNNER_OPTIONS, RunnerService, type RunnerOptions } from './runner.service.js';

/** Backend pools on this runner, reached only over the bus. */
@Module({})
export class RunnerModule {
  static forRoot(bus: Bus, options: RunnerOptions): DynamicModule {
    return {
      module: RunnerModule,
      providers: [{ provide: BUS, useValue: bus }, { provide: RUNNER_OPTIONS, useValue: options }, RunnerService],
    };
  }
}
