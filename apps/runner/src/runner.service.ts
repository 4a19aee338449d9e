import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BUS, type Bus } from '#bus';
import type { GatehouseConfig } from '#config';
import { SESSION_ROUTES_BUCKET } from '#contracts';
import type { Logger } from '#observability';
import { StdioBackend } from './backends/stdio.backend.js';
import { NodeProcessSpawner, type ProcessSpawner } from './process/child-process.js';
import { BusStreamSink } from './sessions/bus-stream-sink.js';
import { RunnerPool, type PoolServer } from './sessions/runner-pool.js';
import { SessionBusHandler } from './sessions/session-bus.handler.js';

export const RUNNER_OPTIONS = Symbol('RunnerOptions');

export interface RunnerOptions {
  config: GatehouseConfig;
  runnerId: string;
  /** Runner groups this runner serves. */
  groups: readonly string[];
  /** The allowlisted part of the gateway's environment that backends may see. */
  childBaseEnv: Record<string, string>;
  log: Logger;
  spawner?: ProcessSpawner;
}

/** Wires the pool to the bus: opens sessions, relays messages, expires idle ones, ends all on shutdown. */
@Injectable()
export class RunnerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private pool: RunnerPool | undefined;
  private handler: SessionBusHandler | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(RUNNER_OPTIONS) private readonly options: RunnerOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config, log, runnerId } = this.options;
    const routes = await this.bus.kv(SESSION_ROUTES_BUCKET, { ttlMs: config.proxy.sessions.timeoutMs });
    const spawner = this.options.spawner ?? new NodeProcessSpawner({ log });
    const servers = new Map<string, PoolServer>(Object.values(config.servers).map((s) => [s.name, s]));
    const pool = new RunnerPool(
      servers,
      { idleTimeoutMs: config.proxy.sessions.timeoutMs, maxPerUser: config.proxy.sessions.maxPerUser },
      {
        sink: new BusStreamSink(this.bus, log),
        log,
        now: Date.now,
        createBackend: (name, context) => {
          const server = config.servers[name];
          if (!server) throw new Error(`unknown server ${name}`);
          const env = { ...this.options.childBaseEnv, ...server.env };
          const limits = { maxMessageBytes: config.proxy.limits.maxMessageBytes };
          return new StdioBackend(spawner, { command: server.command, args: server.args, env }, log, context, limits);
        },
        onEnded: (identity, reason) => void handler.sessionEnded(identity.id, reason),
      },
    );
    const handler = new SessionBusHandler(this.bus, pool, routes, { id: runnerId, groups: this.options.groups }, log);
    handler.start();
    this.pool = pool;
    this.handler = handler;
    this.sweeper = setInterval(() => void pool.sweep(), config.proxy.sessions.cleanupIntervalMs);
    this.sweeper.unref();
    log.info({ groups: this.options.groups, servers: [...servers.keys()] }, 'runner ready');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.sweeper);
    this.handler?.stop();
    await this.pool?.closeAll('runner shutting down');
    await this.bus.flush();
  }
}
