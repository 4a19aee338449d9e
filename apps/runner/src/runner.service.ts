import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BUS, type Bus } from '#bus';
import type { GatehouseConfig } from '#config';
import { SESSION_ROUTES_BUCKET } from '#contracts';
import { envelopeOf } from '#crypto';
import type { Logger } from '#observability';
import { BusCredentialLookup } from './credentials/credential-lookup.js';
import { AggregateHub } from './backends/aggregate/aggregate-hub.js';
import { createBackend } from './backends/backend.factory.js';
import { NodeProcessSpawner, type ProcessSpawner } from './process/child-process.js';
import { BusStreamSink } from './sessions/bus-stream-sink.js';
import { RunnerPool, type PoolServer } from './sessions/runner-pool.js';
import { SessionClosedEventSchema, encode, sessionClosedSubject } from '#contracts';
import { SessionMessagesHandler } from './sessions/session-messages.handler.js';
import { KvSessionRoutes } from './sessions/session-routes.js';

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

/** The pool of this runner's sessions, recording their routes in the shared bucket and announcing their end. */
export async function createRunnerPool(bus: Bus, options: RunnerOptions, aggregates: AggregateHub): Promise<RunnerPool> {
  const { config, log, runnerId } = options;
  const { sessions } = config.proxy;
  const kv = await bus.kv(SESSION_ROUTES_BUCKET, { ttlMs: sessions.timeoutMs });
  const spawner = options.spawner ?? new NodeProcessSpawner({ log });
  const servers = new Map<string, PoolServer>(Object.values(config.servers).map((s) => [s.name, s]));
  const credentials =
    config.auth && new BusCredentialLookup(bus, envelopeOf(config.auth.encryptionKey, config.auth.previousEncryptionKeys));
  return new RunnerPool(
    servers,
    { idleTimeoutMs: sessions.timeoutMs, maxPerUser: sessions.maxPerUser, replay: sessions.replay },
    {
      sink: new BusStreamSink(bus, log),
      routes: new KvSessionRoutes(kv),
      runnerId,
      log,
      now: Date.now,
      createBackend: (name, context, principal) => {
        const server = config.servers[name];
        if (!server) throw new Error(`unknown server ${name}`);
        return createBackend(server, context, principal, {
          servers: config.servers,
          aggregates,
          spawner,
          childBaseEnv: options.childBaseEnv,
          maxMessageBytes: config.proxy.limits.maxMessageBytes,
          log,
          ...(credentials && { credentials }),
        });
      },
      // Every edge hears it: streams fail what is pending, cached routes go.
      onEnded: (sessionId, reason) => bus.publish(sessionClosedSubject(sessionId), encode(SessionClosedEventSchema, { sessionId, reason })),
    },
  );
}

/** Runs the data plane and the idle sweep beside the control plane; ends every session on shutdown. */
@Injectable()
export class RunnerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly messages: SessionMessagesHandler;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(RUNNER_OPTIONS) private readonly options: RunnerOptions,
    @Inject(RunnerPool) private readonly pool: RunnerPool,
    @Inject(AggregateHub) private readonly aggregates: AggregateHub,
  ) {
    this.messages = new SessionMessagesHandler(bus, pool, options.runnerId);
  }

  onApplicationBootstrap(): void {
    const { config, log, groups } = this.options;
    this.messages.start();
    this.aggregates.start();
    this.sweeper = setInterval(
      () => void this.pool.sweep(),
      Math.min(config.proxy.sessions.cleanupIntervalMs, config.proxy.sessions.timeoutMs / 4),
    );
    this.sweeper.unref();
    log.info({ groups, servers: Object.keys(config.servers) }, 'runner ready');
  }

  /** Refuses new sessions and ends every open one; the control plane stops after. */
  async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    await this.pool.closeAll('runner shutting down');
    this.messages.stop();
    this.aggregates.stop();
    await this.bus.flush().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }
}
