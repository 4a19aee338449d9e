import { Module, type DynamicModule } from '@nestjs/common';
import { BUS, type Bus } from '#bus';
import { RUNNER_OPTIONS, RunnerService, createRunnerPool, createWarmPools, type RunnerOptions } from './runner.service.js';
import { WarmPools } from './pools/warm-pools.js';
import { CallAudit } from './audit/call-audit.js';
import { createCallAudit } from './audit/create-call-audit.js';
import { AggregateHub } from './backends/aggregate/aggregate-hub.js';
import { RunnerPool } from './sessions/runner-pool.js';
import { RUNNER_ID, SessionController } from './sessions/session.controller.js';

/** Backend pools on this runner, reached only over the bus. */
@Module({})
export class RunnerModule {
  static forRoot(bus: Bus, options: RunnerOptions): DynamicModule {
    return {
      module: RunnerModule,
      controllers: [SessionController],
      providers: [
        { provide: BUS, useValue: bus },
        { provide: RUNNER_OPTIONS, useValue: options },
        { provide: RUNNER_ID, useValue: options.runnerId },
        { provide: AggregateHub, useFactory: () => new AggregateHub(bus, options.runnerId, options.log) },
        { provide: CallAudit, useFactory: () => createCallAudit(bus, options.config.proxy.audit, options.log) },
        {
          provide: RunnerPool,
          inject: [AggregateHub, CallAudit],
          useFactory: (hub: AggregateHub, audit: CallAudit) => createRunnerPool(bus, options, hub, audit),
        },
        { provide: WarmPools, inject: [RunnerPool], useFactory: (pool: RunnerPool) => createWarmPools(bus, options, pool) },
        RunnerService,
      ],
    };
  }
}
