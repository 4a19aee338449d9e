import type { JsonRpcMessage, Principal, ReplyError, RequestId } from '#contracts';
import type { Logger } from '#observability';
import type { BackendConnection, BackendLogContext } from '../backends/backend.port.js';
import { RunnerSession } from './runner-session.js';
import type { StreamSink } from './stream-sink.port.js';
import { ToolFilter, type ToolFilterConfig } from './tool-filter.js';

/** What the pool needs to know of a configured server. */
export interface PoolServer {
  name: string;
  timeoutMs: number;
  toolFilter?: ToolFilterConfig;
}

export interface PoolLimits {
  /** Idle time after which a session ends. */
  idleTimeoutMs: number;
  /** Open sessions one user may hold on this runner. */
  maxPerUser: number;
}

export type BackendFactory = (server: string, context: BackendLogContext) => BackendConnection;

export interface OpenSession {
  sessionId: string;
  server: string;
  principal: Principal;
  initialize: JsonRpcMessage & { id: RequestId };
  stream?: string | undefined;
}

export type OpenResult = { ok: true; response: JsonRpcMessage } | { ok: false; error: ReplyError };

/** The runner's sessions, each user's capped at `maxPerUser`; ended sessions leave no process. */
export class RunnerPool {
  private readonly sessions = new Map<string, RunnerSession>();
  private readonly perUser = new Map<string, number>();
  private readonly filters = new Map<string, ToolFilter>();

  constructor(
    private readonly servers: ReadonlyMap<string, PoolServer>,
    private readonly limits: PoolLimits,
    private readonly deps: {
      createBackend: BackendFactory;
      sink: StreamSink;
      log: Logger;
      now: () => number;
      onEnded: (identity: RunnerSession['identity'], reason: string) => void;
    },
  ) {
    for (const server of servers.values()) this.filters.set(server.name, new ToolFilter(server.toolFilter));
  }

  get size(): number {
    return this.sessions.size;
  }

  get(sessionId: string): RunnerSession | undefined {
    return this.sessions.get(sessionId);
  }

  async open(request: OpenSession): Promise<OpenResult> {
    const server = this.servers.get(request.server);
    const filter = this.filters.get(request.server);
    if (!server || !filter) return failure('UNKNOWN_SERVER', `no server named ${request.server} on this runner`);
    if (this.sessions.has(request.sessionId)) return failure('BAD_REQUEST', 'session id already in use');
    const sub = request.principal.sub;
    const held = this.perUser.get(sub) ?? 0;
    if (held >= this.limits.maxPerUser) {
      return failure(
        'SESSION_LIMIT',
        `session limit reached: at most ${this.limits.maxPerUser} open sessions per user; close one (DELETE) or wait for an idle one to expire`,
      );
    }
    const identity = { id: request.sessionId, sub, server: server.name };
    const backend = this.deps.createBackend(server.name, { sessionId: identity.id, sub, server: server.name });
    const session = new RunnerSession(
      identity,
      backend,
      { ...this.deps, toolFilter: filter, onEnded: (s, reason) => this.ended(s, reason) },
      request.stream,
    );
    this.sessions.set(identity.id, session);
    this.perUser.set(sub, held + 1);
    try {
      const response = await session.open(request.initialize, server.timeoutMs);
      if (response.error !== undefined) {
        // The backend refused to initialize: no session, and no process holding the user's slot.
        await session.end('the backend refused initialize');
        return failure('BACKEND_FAILED', `the backend refused initialize: ${describeError(response.error)}`);
      }
      return { ok: true, response };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      await session.end(message);
      return failure('BACKEND_FAILED', message);
    }
  }

  /** Ends sessions idle for longer than the timeout; returns how many. */
  async sweep(): Promise<number> {
    const cutoff = this.deps.now() - this.limits.idleTimeoutMs;
    const idle = [...this.sessions.values()].filter((s) => s.lastActivity < cutoff);
    await Promise.all(idle.map((s) => s.end('idle timeout')));
    return idle.length;
  }

  async closeAll(reason: string): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.end(reason)));
  }

  private ended(session: RunnerSession, reason: string): void {
    const { id, sub } = session.identity;
    if (this.sessions.get(id) !== session) return;
    this.sessions.delete(id);
    const held = (this.perUser.get(sub) ?? 1) - 1;
    if (held > 0) this.perUser.set(sub, held);
    else this.perUser.delete(sub);
    this.deps.log.info({ sessionId: id, sub, server: session.identity.server, reason }, 'session ended');
    this.deps.onEnded(session.identity, reason);
  }
}

function describeError(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : JSON.stringify(error);
}

function failure(code: ReplyError['code'], message: string): OpenResult {
  return { ok: false, error: { code, message } };
}
