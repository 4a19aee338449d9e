import { randomBytes } from 'node:crypto';
import type { KvBucket } from '#bus';
import {
  encode,
  isRequest,
  parseRequestState,
  poolRouteKey,
  PoolRouteSchema,
  type JsonRpcMessage,
  type PoolCallReply,
  type PoolCallRequest,
  type Principal,
  type ReplyError,
  type RequestId,
  isJsonObject,
  MCP_META,
  metaOf,
  paramsOf,
} from '#contracts';
import { randomId } from '#crypto';
import type { Logger } from '#observability';
import type { RunnerPool } from '../sessions/runner-pool.js';
import type { RunnerSession } from '../sessions/runner-session.js';
import type { StreamSink } from '../sessions/stream-sink.port.js';
import { CallOutbound, type PooledCall } from './call-outbound.js';
import { ListCache } from './list-cache.js';
import { bridgedCapabilities, INPUT_CAPABLE_METHODS, LIST_METHODS } from './stateless-messages.js';
import { bridgedResult, discoverResult, discoverRequest, initializeRequest, speaksStateless } from './stateless-results.js';

export interface WarmPoolLimits {
  /** Warm sessions one identity may hold per server and capability set. */
  size: number;
  /** How long a call waits for the client's retry with the input it was asked for. */
  inputTimeoutMs: number;
  /** How long a list stays cached (and the ttlMs clients are told). */
  listTtlMs: number;
  /** The lease of a pool's route; renewed at half of it. */
  routeTtlMs: number;
}

export interface WarmPoolDeps {
  sessions: RunnerPool;
  sink: StreamSink;
  /** The session routes bucket, where edges find the runner holding an identity's pool. */
  routes: KvBucket;
  runnerId: string;
  log: Logger;
  now: () => number;
}

/** A pooled session: a RunnerSession whose messages go to stateless calls. */
interface PooledSession {
  id: string;
  session: RunnerSession | undefined;
  outbound: CallOutbound;
  /** The backend speaks 2026-07-28 itself: requests pass through as they are. */
  native: boolean;
  /** The backend's answer to the request that opened it (initialize, or server/discover). */
  opened: JsonRpcMessage | undefined;
  /** Calls given this session and not registered on it yet: counted as in flight. */
  reserved: number;
  readonly pool: Pool;
}

interface Pool {
  readonly key: string;
  readonly routeKey: string;
  readonly principal: Principal;
  readonly server: string;
  readonly sessions: Set<PooledSession>;
  readonly lists: ListCache;
  /** The capabilities its sessions declare to the backend (the names a client declared). */
  readonly capabilities: Record<string, unknown>;
  opening: Promise<PooledSession> | undefined;
}

/** How long a backend has to answer the server/discover probe before it is taken for a 2025 one. */
const PROBE_TIMEOUT_MS = 5000;

/** A session's calls share it until this many are in flight (calls that may need input have it to themselves). */
const SHARED_CALLS = 8;

/**
 * Each identity's warm pools: initialized backend sessions kept per (identity, server, the
 * capabilities its clients declare) that serve 2026-07-28 requests, never shared between
 * identities. A 2025 backend's requests for input are bridged to input_required results; a
 * backend that speaks 2026-07-28 itself (it answers server/discover) gets requests as they are.
 */
export class WarmPools {
  private readonly pools = new Map<string, Pool>();
  private readonly bySession = new Map<string, PooledSession>();
  /** What each server's backend speaks, learnt from the first probe on this runner. */
  private readonly eras = new Map<string, 'native' | 'bridged'>();
  private readonly routeWrittenAt = new Map<string, number>();
  private readonly secret = randomBytes(32);

  constructor(
    private readonly limits: WarmPoolLimits,
    private readonly deps: WarmPoolDeps,
  ) {}

  /** Takes one stateless request: answered on its stream, from a warm session, a cached list, or the waiting call it resumes. */
  async call(request: PoolCallRequest): Promise<PoolCallReply> {
    const { message, principal, stream } = request;
    if (!isRequest(message)) return refused('BAD_REQUEST', 'a stateless call carries one request');
    const parked = parseRequestState(paramsOf(message).requestState);
    if (parked?.runnerId === this.deps.runnerId) {
      const pooled = this.bySession.get(parked.sessionId);
      if (!pooled || pooled.pool.server !== request.server) {
        return refused('SESSION_NOT_FOUND', 'the call this requestState belongs to has ended; call again without requestState');
      }
      pooled.outbound.resume(parked, message, principal.sub, stream);
      return { ok: true, runnerId: this.deps.runnerId, sessionId: pooled.id };
    }
    const pool = this.poolFor(request);
    let pooled: PooledSession;
    try {
      const exclusive = INPUT_CAPABLE_METHODS.has(message.method) && Object.keys(pool.capabilities).length > 0;
      pooled = await this.sessionFor(pool, exclusive, message);
    } catch (err) {
      this.forgetIfEmpty(pool);
      return { ok: false, error: errorOf(err) };
    }
    try {
      void this.renewRoute(pool);
      const answer = pooled.native ? undefined : this.answerHere(pool, pooled, message);
      if (answer) {
        this.deps.sink.publish(stream, { sessionId: pooled.id, message: answer });
        this.deps.sink.publish(stream, { sessionId: pooled.id, end: true });
      } else {
        const logs = metaOf(message)[MCP_META.logLevel] !== undefined;
        const list = isFirstPage(message) ? { listKey: message.method, listGeneration: pool.lists.generation } : {};
        pooled.outbound.register(stream, message, { sub: principal.sub, logs, ...list });
        pooled.session?.fromClient([message], stream, principal);
      }
    } finally {
      pooled.reserved -= 1;
    }
    return { ok: true, runnerId: this.deps.runnerId, sessionId: pooled.id };
  }

  /** Renews the routes of pools still held (called with the idle sweep). */
  async renewRoutes(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => this.renewRoute(p)));
  }

  /** What a bridged pool answers without its backend: server/discover, and lists it has cached. */
  private answerHere(
    pool: Pool,
    pooled: PooledSession,
    request: JsonRpcMessage & { id: RequestId; method: string },
  ): JsonRpcMessage | undefined {
    if (request.method === 'server/discover') return pooled.opened && discoverResult(request.id, pooled.opened, this.limits.listTtlMs);
    if (!isFirstPage(request)) return undefined;
    const cached = pool.lists.get(request.method);
    return cached && { jsonrpc: '2.0', id: request.id, result: { ...cached.result, ttlMs: cached.freshForMs } };
  }

  /**
   * The caller's pool: per identity, server, groups (its tool policy) and the capabilities the
   * client declares — by name, so a client cannot make the key as large as it likes.
   */
  private poolFor(request: PoolCallRequest): Pool {
    const { principal, server, message } = request;
    const capabilities = this.eras.get(server) === 'native' ? {} : bridgedCapabilities(message);
    const groups = [...new Set(principal.groups ?? [])].sort();
    // bridgedCapabilities builds its object in one key order, so equal declarations give equal keys.
    const key = JSON.stringify([principal.sub, server, groups, capabilities]);
    let pool = this.pools.get(key);
    if (!pool) {
      pool = {
        key,
        routeKey: poolRouteKey(principal.sub, server),
        principal,
        server,
        capabilities,
        sessions: new Set(),
        lists: new ListCache(this.deps.now),
        opening: undefined,
      };
      this.pools.set(key, pool);
    }
    return pool;
  }

  /**
   * The least busy warm session, or a new one when all are crowded and the pool has room; the
   * call is counted on it at once (reserved), so calls arriving together spread. When an open
   * fails, every call waiting for it fails with it.
   */
  private async sessionFor(pool: Pool, exclusive: boolean, first: JsonRpcMessage): Promise<PooledSession> {
    for (;;) {
      const best = [...pool.sessions].sort((a, b) => load(a) - load(b))[0];
      const crowded = !best || load(best) >= (exclusive ? 1 : SHARED_CALLS);
      if (pool.opening && crowded) {
        await pool.opening;
        continue;
      }
      const chosen = !crowded || pool.sessions.size >= this.limits.size ? best : undefined;
      if (chosen) {
        chosen.reserved += 1;
        return chosen;
      }
      pool.opening = this.openOnce(pool, first);
      try {
        const opened = await pool.opening;
        opened.reserved += 1;
        return opened;
      } finally {
        pool.opening = undefined;
      }
    }
  }

  /** Opens a session; when the discover probe killed the backend, the server is taken for a 2025 one and opened again. */
  private async openOnce(pool: Pool, first: JsonRpcMessage): Promise<PooledSession> {
    const probing = this.eras.get(pool.server) === undefined;
    try {
      return await this.open(pool, first);
    } catch (err) {
      if (!probing || this.eras.get(pool.server) !== 'bridged') throw err;
      return this.open(pool, first);
    }
  }

  /** A pool left with no session (its open failed) is dropped, so failed calls leave nothing behind. */
  private forgetIfEmpty(pool: Pool): void {
    if (pool.sessions.size === 0 && !pool.opening && this.pools.get(pool.key) === pool) this.pools.delete(pool.key);
  }

  private async open(pool: Pool, first: JsonRpcMessage | undefined): Promise<PooledSession> {
    const id = randomId();
    const outbound = this.outboundFor(pool, id);
    const pooled: PooledSession = { id, session: undefined, outbound, native: false, opened: undefined, reserved: 0, pool };
    const opened = await this.deps.sessions.open({
      sessionId: id,
      server: pool.server,
      principal: pool.principal,
      transport: 'pool',
      pooled: {
        outbound: () => pooled.outbound,
        handshake: (session) => {
          pooled.session = session;
          pooled.outbound.toBackend = (m) => session.fromClient([m], undefined);
          return this.handshake(session, pool, pooled, first);
        },
      },
    });
    if (!opened.ok) throw new PoolOpenError(opened.error);
    pool.sessions.add(pooled);
    this.bySession.set(id, pooled);
    this.deps.log.info({ sessionId: id, sub: pool.principal.sub, server: pool.server, native: pooled.native }, 'warm session opened');
    return pooled;
  }

  /** server/discover first (a backend that answers it speaks 2026-07-28); initialize when it does not. */
  private async handshake(
    session: RunnerSession,
    pool: Pool,
    pooled: PooledSession,
    first: JsonRpcMessage | undefined,
  ): Promise<JsonRpcMessage> {
    if (this.eras.get(pool.server) !== 'bridged') {
      const probe = await session.open(discoverRequest(), PROBE_TIMEOUT_MS).catch(() => undefined);
      if (probe && speaksStateless(probe)) {
        this.eras.set(pool.server, 'native');
        pooled.native = true;
        pooled.opened = probe;
        return probe;
      }
      // Refused, unanswered, or the backend died of it (then it is opened again, with initialize).
      this.eras.set(pool.server, 'bridged');
      this.deps.log.info({ server: pool.server, answered: probe !== undefined }, 'the backend does not speak 2026-07-28: bridged');
    }
    const response = await session.open(initializeRequest(pool.capabilities, first));
    if (response.error === undefined) session.fromClient([{ jsonrpc: '2.0', method: 'notifications/initialized' }], undefined);
    pooled.opened = response;
    return response;
  }

  private outboundFor(pool: Pool, sessionId: string): CallOutbound {
    return new CallOutbound({
      sessionId,
      runnerId: this.deps.runnerId,
      sink: this.deps.sink,
      log: this.deps.log,
      secret: this.secret,
      inputTimeoutMs: this.limits.inputTimeoutMs,
      capabilities: pool.capabilities,
      decorate: (call, response) => this.decorate(pool, sessionId, call, response),
      onListChanged: (method) => pool.lists.invalidate(method),
      onEnded: () => this.ended(pool, sessionId),
    });
  }

  private decorate(pool: Pool, sessionId: string, call: PooledCall, response: JsonRpcMessage): JsonRpcMessage {
    const pooled = this.bySession.get(sessionId);
    if (!pooled || pooled.native) return response;
    const answer = bridgedResult(call.method, response, pooled.opened, this.limits.listTtlMs);
    if (LIST_METHODS.has(call.method) && isJsonObject(answer.result) && call.listKey !== undefined) {
      pool.lists.put(call.listKey, answer.result, this.limits.listTtlMs, call.listGeneration);
    }
    return answer;
  }

  private ended(pool: Pool, sessionId: string): void {
    const pooled = this.bySession.get(sessionId);
    this.bySession.delete(sessionId);
    if (pooled) pool.sessions.delete(pooled);
    if (pool.sessions.size > 0) return;
    this.forgetIfEmpty(pool);
    const others = [...this.pools.values()].some((p) => p.routeKey === pool.routeKey);
    if (others) return;
    this.routeWrittenAt.delete(pool.routeKey);
    void this.deps.routes.delete(pool.routeKey).catch((err: unknown) => this.deps.log.warn({ err }, 'pool route delete failed'));
  }

  private async renewRoute(pool: Pool): Promise<void> {
    const now = this.deps.now();
    if (pool.sessions.size === 0 || now - (this.routeWrittenAt.get(pool.routeKey) ?? 0) < this.limits.routeTtlMs / 2) return;
    this.routeWrittenAt.set(pool.routeKey, now);
    const route = { runnerId: this.deps.runnerId, sub: pool.principal.sub, server: pool.server };
    await this.deps.routes.put(pool.routeKey, encode(PoolRouteSchema, route)).catch((err: unknown) => {
      this.routeWrittenAt.delete(pool.routeKey);
      this.deps.log.warn({ err, server: pool.server }, 'pool route write failed');
    });
  }
}

/** Lists are cached by their first page only: a cursor is the client's to choose. */
function isFirstPage(request: JsonRpcMessage & { method: string }): boolean {
  return LIST_METHODS.has(request.method) && paramsOf(request).cursor === undefined;
}

function load(pooled: PooledSession): number {
  return pooled.outbound.active + pooled.reserved;
}

class PoolOpenError extends Error {
  constructor(readonly error: ReplyError) {
    super(error.message);
  }
}

function errorOf(err: unknown): ReplyError {
  if (err instanceof PoolOpenError) return err.error;
  return { code: 'BACKEND_FAILED', message: err instanceof Error ? err.message : String(err) };
}

function refused(code: ReplyError['code'], message: string): PoolCallReply {
  return { ok: false, error: { code, message } };
}
