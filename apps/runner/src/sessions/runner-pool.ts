import type { JsonRpcMessage, Principal, ReplyError, RequestId, SessionTransport } from '#contracts';
import type { Logger, Metrics } from '#observability';
import type { CallAudit } from '../audit/call-audit.js';
import type { BackendConnection, BackendLogContext } from '../backends/backend.port.js';
import type { Outbound } from './outbound.port.js';
import { ReplayLog, type ReplayLimits } from './replay-log.js';
import { RunnerSession } from './runner-session.js';
import { SessionOutbound } from './session-outbound.js';
import type { SessionRoutes } from './session-routes.js';
import type { HeldEvents, StreamSink } from './stream-sink.port.js';
import { ToolFilter, type ToolAccessRule, type ToolFilterConfig } from './tool-filter.js';

/** What the pool needs to know of a configured server. */
export interface PoolServer {
  name: string;
  timeoutMs: number;
  toolFilter?: ToolFilterConfig;
  toolAccess?: readonly ToolAccessRule[];
}

export interface PoolLimits {
  /** Time without client activity after which a session ends; also the route's lease. */
  idleTimeoutMs: number;
  /** The same for a warm pool's session (default: idleTimeoutMs). */
  poolIdleTimeoutMs?: number;
  /** Open sessions one identity may hold on this runner. */
  maxPerUser: number;
  /** What a resumable stream keeps for replay, per session. */
  replay: ReplayLimits;
}

/** The backend of one session; `principal` is the caller's (an aggregate opens its members under it). */
export type BackendFactory = (server: string, context: BackendLogContext, principal: Principal) => BackendConnection;

export interface OpenSession {
  sessionId: string;
  server: string;
  principal: Principal;
  transport: SessionTransport;
  /** Absent for a legacy SSE session, which starts with the initialize it relays later. */
  initialize?: (JsonRpcMessage & { id: RequestId }) | undefined;
  stream?: string | undefined;
  /** A warm pool's session: where its messages go, and how it opens (instead of `initialize`). */
  pooled?: { outbound: (sessionId: string) => Outbound; handshake: (session: RunnerSession) => Promise<JsonRpcMessage> };
}

export type OpenResult = { ok: true; response?: JsonRpcMessage } | { ok: false; error: ReplyError };

export interface PoolDeps {
  createBackend: BackendFactory;
  sink: StreamSink;
  routes: SessionRoutes;
  runnerId: string;
  log: Logger;
  metrics: Metrics;
  now: () => number;
  onEnded: (sessionId: string, reason: string) => void;
  audit: CallAudit;
}

/**
 * The runner's sessions and their routes: each identity's capped at `maxPerUser` (its least
 * recently used idle session makes room), idle ones ended, ended ones leave no process or route.
 */
export class RunnerPool {
  private readonly sessions = new Map<string, RunnerSession>();
  private readonly perUser = new Map<string, Set<RunnerSession>>();
  private readonly filters = new Map<string, ToolFilter>();
  private readonly routeWrittenAt = new Map<string, number>();
  /** Sessions that ended and whose process trees are still going: shutdown waits for them too. */
  private readonly winding = new Set<Promise<void>>();
  private closing = false;

  constructor(
    private readonly servers: ReadonlyMap<string, PoolServer>,
    private readonly limits: PoolLimits,
    private readonly deps: PoolDeps,
  ) {
    for (const server of servers.values()) this.filters.set(server.name, new ToolFilter(server.toolFilter, server.toolAccess));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Keeps what the stream `subject` carries for `release`, as `StreamSink.hold` says; false when the sink holds nothing. */
  holdStream(subject: string, ms: number, release: (held: HeldEvents) => boolean): boolean {
    if (!this.deps.sink.hold) return false;
    this.deps.sink.hold(subject, ms, release);
    return true;
  }

  get(sessionId: string): RunnerSession | undefined {
    return this.sessions.get(sessionId);
  }

  async open(request: OpenSession): Promise<OpenResult> {
    const server = this.servers.get(request.server);
    const filter = this.filters.get(request.server);
    if (!server || !filter) return failure('UNKNOWN_SERVER', `no server named ${request.server} on this runner`);
    if (this.closing) return failure('UNAVAILABLE', 'the runner is shutting down; try again');
    if (this.sessions.has(request.sessionId)) return failure('BAD_REQUEST', 'session id already in use');
    const sub = request.principal.sub;
    if (!this.makeRoom(sub)) {
      return failure(
        'SESSION_LIMIT',
        `session limit reached: at most ${this.limits.maxPerUser} open sessions per user, all of them busy; close one (DELETE) or retry once a call has finished`,
      );
    }
    const session = this.create(request, server, filter);
    let response: JsonRpcMessage | undefined;
    try {
      response = request.pooled ? await request.pooled.handshake(session) : request.initialize && (await session.open(request.initialize));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await session.end(message);
      return failure('BACKEND_FAILED', message);
    }
    if (response?.error !== undefined) {
      // The backend refused to initialize: no session, and no process holding the user's slot.
      this.deps.log.warn({ ...fieldsOf(session), error: response.error }, 'the backend refused initialize');
      await session.end('the backend refused initialize');
      return failure('BACKEND_FAILED', 'the backend refused initialize');
    }
    try {
      await this.writeRoute(session);
    } catch (err) {
      // Unroutable, the session would hold a process and a slot until it idled out.
      this.deps.log.warn({ ...fieldsOf(session), err }, 'could not record the session route');
      await session.end('its route could not be stored');
      return failure('UNAVAILABLE', 'the gateway could not record the session; try again');
    }
    return { ok: true, ...(response && { response }) };
  }

  /** Ends sessions without client activity for the idle timeout, and renews the routes of the others; returns how many ended. */
  async sweep(): Promise<number> {
    const now = this.deps.now();
    // A warm pool's session is not idle while a call waits on it (one waiting for input ends at its own timeout).
    const idle = [...this.sessions.values()].filter(
      (s) => s.lastActivity < now - this.idleTimeoutOf(s) && !(s.identity.transport === 'pool' && s.isBusy),
    );
    const renew = [...this.sessions.values()].filter((s) => !idle.includes(s) && this.routeAge(s, now) >= this.limits.idleTimeoutMs / 2);
    await Promise.all([
      ...idle.map((s) => s.end('idle timeout')),
      ...renew.map((s) => this.writeRoute(s).catch((err: unknown) => this.deps.log.warn({ ...fieldsOf(s), err }, 'route renewal failed'))),
    ]);
    return idle.length;
  }

  private idleTimeoutOf(session: RunnerSession): number {
    const { idleTimeoutMs, poolIdleTimeoutMs } = this.limits;
    return session.identity.transport === 'pool' ? (poolIdleTimeoutMs ?? idleTimeoutMs) : idleTimeoutMs;
  }

  /** Ends every session and refuses new ones. */
  async closeAll(reason: string): Promise<void> {
    this.closing = true;
    await Promise.all([...[...this.sessions.values()].map((s) => s.end(reason)), ...this.winding]);
  }

  /** Whether `sub` may open one more session, after closing its least recently used idle one if it must. */
  private makeRoom(sub: string): boolean {
    const held = this.perUser.get(sub);
    if (!held || held.size < this.limits.maxPerUser) return true;
    const idle = [...held].filter((s) => !s.isBusy).sort((a, b) => a.lastActivity - b.lastActivity)[0];
    if (!idle) return false;
    void idle.end(`closed to make room: the identity opened more than ${this.limits.maxPerUser} sessions`);
    return true;
  }

  private create(request: OpenSession, server: PoolServer, toolFilter: ToolFilter): RunnerSession {
    const { sessionId: id, principal, transport } = request;
    const identity = { id, sub: principal.sub, server: server.name, transport };
    const backend = this.deps.createBackend(server.name, { sessionId: id, sub: principal.sub, server: server.name }, principal);
    const replay = transport === 'streamable-http' ? new ReplayLog(this.limits.replay) : undefined;
    const outbound = request.pooled?.outbound(id) ?? new SessionOutbound(id, this.deps.sink, this.deps.log, replay, request.stream);
    const session = new RunnerSession(identity, backend, outbound, {
      toolFilter: toolFilter.forCaller(principal.groups),
      log: this.deps.log,
      now: this.deps.now,
      startTimeoutMs: server.timeoutMs,
      onEnded: (s, reason) => this.ended(s, reason),
      audit: (message, caller) => this.deps.audit.begin(message, server.name, caller ?? principal),
    });
    this.sessions.set(id, session);
    this.deps.metrics.sessions(server.name, 1);
    const held = this.perUser.get(principal.sub) ?? new Set<RunnerSession>();
    this.perUser.set(principal.sub, held.add(session));
    return session;
  }

  private async writeRoute(session: RunnerSession): Promise<void> {
    const { id, sub, server, transport } = session.identity;
    this.routeWrittenAt.set(id, this.deps.now());
    await this.deps.routes.put(id, { runnerId: this.deps.runnerId, sub, server, transport });
  }

  private routeAge(session: RunnerSession, now: number): number {
    return now - (this.routeWrittenAt.get(session.identity.id) ?? 0);
  }

  private ended(session: RunnerSession, reason: string): void {
    const { id, sub } = session.identity;
    if (this.sessions.get(id) !== session) return;
    this.sessions.delete(id);
    this.deps.metrics.sessions(session.identity.server, -1);
    const gone = session.end(reason);
    this.winding.add(gone);
    void gone.finally(() => this.winding.delete(gone));
    const held = this.perUser.get(sub);
    held?.delete(session);
    if (held?.size === 0) this.perUser.delete(sub);
    const routed = this.routeWrittenAt.delete(id);
    this.deps.log.info({ ...fieldsOf(session), reason }, 'session ended');
    if (routed) void this.deps.routes.delete(id).catch((err: unknown) => this.deps.log.warn({ sessionId: id, err }, 'route delete failed'));
    this.deps.onEnded(id, reason);
  }
}

function fieldsOf(session: RunnerSession) {
  return { sessionId: session.identity.id, sub: session.identity.sub, server: session.identity.server };
}

function failure(code: ReplyError['code'], message: string): OpenResult {
  return { ok: false, error: { code, message } };
}
