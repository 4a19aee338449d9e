import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BUS, type Bus, type KvBucket } from '#bus';
import type { GatehouseConfig } from '#config';
import { SESSION_ROUTES_BUCKET } from '#contracts';
import { envelopeOf } from '#crypto';
import { noTracing, type Logger, type Metrics, type Tracing } from '#observability';
import { BusCredentialLookup } from './credentials/credential-lookup.js';
import { AggregateHub } from './backends/aggregate/aggregate-hub.js';
import { createBackend } from './backends/backend.factory.js';
import { tracedBackend } from './backends/traced.backend.js';
import { NodeProcessSpawner, type ProcessSpawner } from './process/child-process.js';
import { BusStreamSink } from './sessions/bus-stream-sink.js';
import { RunnerPool, type PoolServer } from './sessions/runner-pool.js';
import { SessionClosedEventSchema, encode, sessionClosedSubject } from '#contracts';
import { SessionMessagesHandler } from './sessions/session-messages.handler.js';
import { KvSessionRoutes } from './sessions/session-routes.js';
import { PoolCallHandler } from './pools/pool-call.handler.js';
import { WarmPools } from './pools/warm-pools.js';
import { CallAudit } from './audit/call-audit.js';

export const RUNNER_OPTIONS = Symbol('RunnerOptions');

export interface RunnerOptions {
  config: GatehouseConfig;
  runnerId: string;
  /** Runner groups this runner serves. */
  groups: readonly string[];
  /** The allowlisted part of the gateway's environment that backends may see. */
  childBaseEnv: Record<string, string>;
  log: Logger;
  metrics: Metrics;
  /** Spans of the requests relayed to backends; none when absent. */
  tracing?: Tracing;
  spawner?: ProcessSpawner;
}

/** The session routes bucket, whose TTL is the lease runners renew while a session (or warm pool) lives. */
function sessionRoutesBucket(bus: Bus, config: GatehouseConfig): Promise<KvBucket> {
  return bus.kv(SESSION_ROUTES_BUCKET, { ttlMs: config.proxy.sessions.timeoutMs });
}

/** The warm pools of stateless callers, made of sessions of the runner's pool. */
export async function createWarmPools(bus: Bus, options: RunnerOptions, sessions: RunnerPool): Promise<WarmPools> {
  const { config, log, runnerId } = options;
  const { pool, timeoutMs } = config.proxy.sessions;
  return new WarmPools(
    { ...pool, routeTtlMs: timeoutMs },
    { sessions, sink: new BusStreamSink(bus, log), routes: await sessionRoutesBucket(bus, config), runnerId, log, now: Date.now },
  );
}

/** The pool of this runner's sessions, recording their routes in the shared bucket and announcing their end. */
export async function createRunnerPool(bus: Bus, options: RunnerOptions, aggregates: AggregateHub, audit: CallAudit): Promise<RunnerPool> {
  const { config, log, runnerId, metrics, tracing = noTracing } = options;
  const { sessions } = config.proxy;
  const kv = await sessionRoutesBucket(bus, config);
  const spawner = options.spawner ?? new NodeProcessSpawner({ log });
  const servers = new Map<string, PoolServer>(Object.values(config.servers).map((s) => [s.name, s]));
  const credentials =
    config.auth && new BusCredentialLookup(bus, envelopeOf(config.auth.encryptionKey, config.auth.previousEncryptionKeys));
  return new RunnerPool(
    servers,
    {
      idleTimeoutMs: sessions.timeoutMs,
      poolIdleTimeoutMs: sessions.pool.idleTimeoutMs,
      maxPerUser: sessions.maxPerUser,
      replay: sessions.replay,
    },
    {
      sink: new BusStreamSink(bus, log),
      routes: new KvSessionRoutes(kv),
      runnerId,
      log,
      metrics,
      now: Date.now,
      audit,
      createBackend: (name, context, principal) => {
        const server = config.servers[name];
        if (!server) throw new Error(`unknown server ${name}`);
        const backend = createBackend(server, context, principal, {
          servers: config.servers,
          aggregates,
          spawner,
          childBaseEnv: options.childBaseEnv,
          maxMessageBytes: config.proxy.limits.maxMessageBytes,
          log,
          metrics,
          ...(credentials && { credentials }),
        });
        return tracedBackend(backend, tracing, name);
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
  private readonly poolCalls: PoolCallHandler;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(RUNNER_OPTIONS) private readonly options: RunnerOptions,
    @Inject(RunnerPool) private readonly pool: RunnerPool,
    @Inject(AggregateHub) private readonly aggregates: AggregateHub,
    @Inject(WarmPools) private readonly warmPools: WarmPools,
    @Inject(CallAudit) private readonly audit: CallAudit,
  ) {
    this.messages = new SessionMessagesHandler(bus, pool, options.runnerId);
    this.poolCalls = new PoolCallHandler(bus, warmPools, options.log);
  }

  onApplicationBootstrap(): void {
    const { config, log, groups } = this.options;
    const { sessions } = config.proxy;
    this.messages.start();
    this.poolCalls.start(groups, this.options.runnerId);
    this.aggregates.start();
    this.sweeper = setInterval(
      () => void this.pool.sweep().then(() => this.warmPools.renewRoutes()),
      Math.min(sessions.cleanupIntervalMs, sessions.timeoutMs / 4, sessions.pool.idleTimeoutMs / 4),
    );
    this.sweeper.unref();
    log.info({ groups, servers: Object.keys(config.servers) }, 'runner ready');
  }

  /** Refuses new sessions and ends every open one; the control plane stops after. */
  async shutdown(): Promise<void> {
    clearInterval(this.sweeper);
    this.poolCalls.stop();
    await this.pool.closeAll('runner shutting down');
    await this.audit.close();
    this.messages.stop();
    this.aggregates.stop();
    await this.bus.flush().catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }
}
