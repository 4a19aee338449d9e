import type { KvBucket } from '#bus';
import { SESSION_ID_PATTERN, SessionRouteSchema, decode, type SessionRoute } from '#contracts';

export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value);
}

/**
 * Session routes as the owning runners wrote them in the shared KV bucket, with a local cache:
 * a route never changes, and a closed session is forgotten when its closed event arrives. The
 * edge never writes a route: it keeps nothing it cannot lose.
 */
export class RouteTable {
  /** Routes this edge has seen, with when it learned them. */
  private readonly cache = new Map<string, { route: SessionRoute; seenAt: number }>();

  constructor(
    private readonly kv: KvBucket,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The route as stored; a local copy older than the TTL is read again (the session may have ended unseen). */
  async get(sessionId: string): Promise<SessionRoute | undefined> {
    const cached = this.cache.get(sessionId);
    if (cached && this.now() - cached.seenAt < this.ttlMs) return cached.route;
    this.cache.delete(sessionId);
    const data = await this.kv.get(sessionId);
    if (!data) return undefined;
    const route = decode(SessionRouteSchema, data);
    if (!route.ok) return undefined;
    this.remember(sessionId, route.value);
    return route.value;
  }

  /** The route of a session owned by this caller on this server and transport; else undefined. */
  async find(sessionId: string, owner: Pick<SessionRoute, 'sub' | 'server' | 'transport'>): Promise<SessionRoute | undefined> {
    if (!isSessionId(sessionId)) return undefined;
    const route = await this.get(sessionId);
    const owned = route && route.sub === owner.sub && route.server === owner.server && route.transport === owner.transport;
    return owned ? route : undefined;
  }

  /** A route a runner just recorded and reported in its answer. */
  remember(sessionId: string, route: SessionRoute): void {
    this.cache.set(sessionId, { route, seenAt: this.now() });
  }

  /** Drops the local copy (the session ended). */
  forget(sessionId: string): void {
    this.cache.delete(sessionId);
  }
}
