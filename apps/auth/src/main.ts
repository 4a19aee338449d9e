import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { BusTransport, type Bus } from '#bus';
import type { GatehouseConfig, RuntimeEnvironment } from '#config';
import { NestPinoLogger, noTracing, type Logger, type Metrics, type Tracing } from '#observability';
import { createAuthServices, openConfiguredStore } from './auth.factory.js';
import { AuthModule } from './auth.module.js';
import { AuditLog, noAuditRecorder } from './audit/audit-log.js';
import type { AuthServices } from './auth.services.js';
import { parseJsonBodies } from './web/json-body.js';

export interface AuthOptions {
  config: GatehouseConfig;
  runtime: RuntimeEnvironment;
  log: Logger;
  metrics: Metrics;
  /** Spans of relayed HTTP requests and credential look-ups; none when absent. */
  tracing?: Tracing;
}

export interface RunningAuth {
  close(): Promise<void>;
}

const PURGE_EVERY_MS = 10 * 60_000;
const RELOAD_KEYS_EVERY_MS = 60_000;
const PURGE_AUDIT_EVERY_MS = 60 * 60_000;
/** Routes a browser-based MCP client calls from its own origin; none uses cookies. */
const CORS_PATHS = [
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/.well-known/jwks.json',
  '/token',
  '/register',
  '/revoke',
];

/** Starts auth without a port: its HTTP routes are injected from bus requests. */
export async function startAuth(bus: Bus, options: AuthOptions): Promise<RunningAuth> {
  const { config, runtime, log, metrics } = options;
  const auditing = config.proxy.audit.enabled;
  // The audit trail is kept with or without proxy.auth; its retention holds even once it is turned off.
  const store = config.auth || auditing ? await openConfiguredStore(config.auth?.storage, runtime, log) : undefined;
  const audit = store && new AuditLog(store.auditEvents, log, config.proxy.audit.retentionMs);
  try {
    const services =
      store &&
      config.auth &&
      (await createAuthServices(
        bus,
        store,
        { ...config, auth: config.auth },
        runtime,
        log,
        metrics,
        (auditing && audit) || noAuditRecorder,
      ));
    const app = await NestFactory.create<NestFastifyApplication>(
      AuthModule.forRoot(bus, log, services, config.proxy.name, options.tracing ?? noTracing, auditing ? audit : undefined),
      new FastifyAdapter(),
      {
        bodyParser: false,
        logger: new NestPinoLogger(log),
      },
    );
    const fastify = app.getHttpAdapter().getInstance();
    fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, new URLSearchParams(String(body)));
    });
    parseJsonBodies(fastify);
    allowCrossOrigin(fastify, config.proxy.basePath);
    refuseNulCharacters(fastify);
    if (config.proxy.basePath) app.setGlobalPrefix(config.proxy.basePath);
    const onError = (err: unknown, subject: string) => log.error({ err, subject }, 'auth bus handler failed');
    app.connectMicroservice({ strategy: new BusTransport({ bus, onError }) });
    await app.init();
    await app.startAllMicroservices();
    // Ready means ready: NATS has confirmed the subscriptions before anyone is told auth answers.
    await bus.flush();
    const upkeep = services ? startUpkeep(services) : () => undefined;
    const auditUpkeep = audit ? startAuditPurge(audit, log) : () => undefined;
    log.info(services ? 'auth ready' : 'auth ready (no proxy.auth: OAuth routes answer 404)');
    return {
      close: async () => {
        upkeep();
        auditUpkeep();
        await app.close();
        await audit?.close();
        await store?.close();
      },
    };
  } catch (err) {
    await audit?.close();
    await store?.close();
    throw err;
  }
}

/** The periodic upkeep of keys and expired records; returns what stops it. */
function startUpkeep(services: AuthServices): () => void {
  const { keys, store, log } = services;
  const timers = [
    setInterval(
      () => void store.purgeExpired(Date.now()).catch((err: unknown) => log.error({ err }, 'purging expired records failed')),
      PURGE_EVERY_MS,
    ),
    setInterval(
      () => void keys.reload().catch((err: unknown) => log.error({ err }, 'reloading signing keys failed')),
      RELOAD_KEYS_EVERY_MS,
    ),
  ];
  for (const timer of timers) timer.unref();
  return () => timers.forEach((timer) => clearInterval(timer));
}

/** Deletes audit records past their retention, at start and hourly; returns what stops it. */
function startAuditPurge(audit: AuditLog, log: Logger): () => void {
  const purge = () =>
    void audit
      .purge(Date.now())
      .then((deleted) => deleted > 0 && log.info({ deleted }, 'audit records past their retention deleted'))
      .catch((err: unknown) => log.error({ err }, 'purging old audit records failed'));
  purge();
  const timer = setInterval(purge, PURGE_AUDIT_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** A NUL character is never meaningful in OAuth parameters, and PostgreSQL cannot store one: 400 before any handler. */
function refuseNulCharacters(fastify: FastifyInstance): void {
  fastify.addHook('preHandler', async (req, reply) => {
    const body = req.body instanceof URLSearchParams ? req.body.toString() : JSON.stringify(req.body ?? null);
    if (!/%00/i.test(req.url) && !body.includes('%00') && !body.includes('\\u0000')) return;
    await reply
      .status(400)
      .header('cache-control', 'no-store')
      .send({ error: 'invalid_request', error_description: 'parameters must not contain NUL characters' });
  });
}

/** CORS for the JSON endpoints (no cookies there, so any origin may call them); preflights answered here. */
function allowCrossOrigin(fastify: FastifyInstance, basePath: string): void {
  const paths = new Set(CORS_PATHS.map((p) => basePath + p));
  fastify.addHook('onRequest', async (req, reply) => {
    if (!paths.has(req.url.split('?')[0] ?? '')) return;
    void reply.header('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') {
      await reply
        .status(204)
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', 'authorization, content-type, mcp-protocol-version')
        .header('access-control-max-age', '600')
        .send();
    }
  });
}
