import { Inject, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BUS, type Bus } from '#bus';
import type { GatehouseConfig } from '#config';
import { SESSION_ROUTES_BUCKET } from '#contracts';
import { noTracing, type Logger, type Metrics, type Tracing } from '#observability';
import { AccessTokenVerifier } from './credentials/access-token.verifier.js';
import { EDGE_LOGGER, EDGE_METRICS, EDGE_OPTIONS, EDGE_TRACING } from './edge.tokens.js';
import { HealthController } from './health/health.controller.js';
import { Admission, type EdgeServer } from './mcp/admission.js';
import { LegacySseHandler } from './mcp/legacy-sse.handler.js';
import { McpRoutes } from './mcp/mcp-routes.js';
import { StreamableHttpHandler, type SessionDeps } from './mcp/streamable-http.handler.js';
import { ProtectedResourceController } from './metadata/protected-resource.controller.js';
import { AuthHttpController } from './relay/auth-http.controller.js';
import { EdgeEventsController } from './relay/edge-events.controller.js';
import { PoolRelay } from './relay/pool-relay.js';
import { RouteTable } from './relay/route-table.js';
import { SessionRelay } from './relay/session-relay.js';
import { SessionWatch } from './relay/session-watch.js';
import { StreamRegistry } from './relay/stream-registry.js';

export interface EdgeOptions {
  config: GatehouseConfig;
  edgeId: string;
  log: Logger;
  metrics: Metrics;
  /** Spans of MCP requests; none when absent. */
  tracing?: Tracing;
}

const SESSION_DEPS = Symbol('SessionDeps');

/** The handlers' dependencies, and the access-token verifier when OAuth is configured. */
type EdgeDeps = SessionDeps & { verifier: AccessTokenVerifier | null };

/** Starts and stops what the MCP handlers rely on: the streams' subscription and the token checks. */
class EdgeLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(SESSION_DEPS) private readonly deps: EdgeDeps) {}

  async onApplicationBootstrap(): Promise<void> {
    this.deps.streams.start();
    await this.deps.verifier?.start();
  }

  onApplicationShutdown(): void {
    this.deps.verifier?.stop();
    this.deps.watch.stopAll();
    this.deps.streams.stop();
  }
}

async function sessionDeps(bus: Bus, options: EdgeOptions): Promise<EdgeDeps> {
  const { config, edgeId, log, metrics } = options;
  const kv = await bus.kv(SESSION_ROUTES_BUCKET, { ttlMs: config.proxy.sessions.timeoutMs });
  const routes = new RouteTable(kv, config.proxy.sessions.timeoutMs);
  const streams = new StreamRegistry(bus, edgeId, log);
  const relay = new SessionRelay(bus, routes, streams, log);
  const pools = new PoolRelay(bus, kv, log);
  const servers = new Map<string, EdgeServer>(Object.values(config.servers).map((s) => [s.name, s]));
  const { auth } = config;
  const { baseURL } = config.proxy;
  const verifier = auth
    ? new AccessTokenVerifier(bus, { issuer: auth.issuer, baseURL, acceptIssuerAudience: auth.acceptIssuerAudience, log, metrics })
    : null;
  const oauth = verifier ? { tokens: verifier, baseURL, log } : undefined;
  const admission = new Admission(servers, { allowed: config.proxy.allowedOrigins, own: new URL(baseURL).origin }, oauth);
  const tracing = options.tracing ?? noTracing;
  return { admission, pools, relay, routes, streams, watch: new SessionWatch(relay), verifier, metrics, tracing };
}

/** The only public ingress: MCP transports, health, protected-resource metadata, and the relay of auth's routes. */
@Module({})
export class EdgeModule {
  static forRoot(bus: Bus, options: EdgeOptions): DynamicModule {
    return {
      module: EdgeModule,
      controllers: [
        HealthController,
        AuthHttpController,
        EdgeEventsController,
        ...(options.config.auth ? [ProtectedResourceController] : []),
      ],
      providers: [
        { provide: BUS, useValue: bus },
        { provide: EDGE_OPTIONS, useValue: options },
        { provide: EDGE_LOGGER, useValue: options.log },
        { provide: EDGE_METRICS, useValue: options.metrics },
        { provide: EDGE_TRACING, useValue: options.tracing ?? noTracing },
        { provide: SESSION_DEPS, useFactory: () => sessionDeps(bus, options) },
        { provide: SessionRelay, inject: [SESSION_DEPS], useFactory: (deps: EdgeDeps) => deps.relay },
        { provide: AccessTokenVerifier, inject: [SESSION_DEPS], useFactory: (deps: EdgeDeps) => deps.verifier },
        { provide: StreamableHttpHandler, inject: [SESSION_DEPS], useFactory: (deps: SessionDeps) => new StreamableHttpHandler(deps) },
        {
          provide: LegacySseHandler,
          inject: [SESSION_DEPS],
          useFactory: (deps: SessionDeps) => new LegacySseHandler(deps, options.config.proxy.basePath),
        },
        {
          provide: McpRoutes,
          inject: [StreamableHttpHandler, LegacySseHandler],
          useFactory: (streamable: StreamableHttpHandler, legacy: LegacySseHandler) =>
            new McpRoutes(streamable, legacy, options.log, options.metrics),
        },
        EdgeLifecycle,
      ],
    };
  }
}
