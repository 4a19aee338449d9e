import type { KvBucket } from '#bus';
import { SESSION_ID_PATTERN, SessionRouteSchema, decode, encode, type SessionRoute } from '#contracts';

export function isSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID_PATTERN.test(value);
}

/**
 * Session routes in the shared KV bucket, with a local cache: a route never changes once its
 * runner is known, and a closed session is forgotten when its closed event arrives.
 */
export class RouteTable {
  /** Routes this edge has seen, with when it last wrote or read them. */
  private readonly cache = new Map<string, { route: SessionRoute; seenAt: number }>();

  constructor(
    private readonly kv: KvBucket,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The route as stored; a local copy older than the TTL is read again (it may have expired). */
  async get(sessionId: string): Promise<SessionRoute | undefined> {
    const cached = this.cache.get(sessionId);
    if (cached && this.now() - cached.seenAt < this.ttlMs) return cached.route;
    this.cache.delete(sessionId);
    const data = await this.kv.get(sessionId);
    if (!data) return undefined;
    const route = decode(SessionRouteSchema, data);
    if (!route.ok) return undefined;
    if (route.value.runnerId) this.remember(sessionId, route.value);
    return route.value;
  }

  /** The route of a session owned by this caller on this server and transport, kept alive; else undefined. */
  async find(sessionId: string, owner: Pick<SessionRoute, 'sub' | 'server' | 'transport'>): Promise<SessionRoute | undefined> {
    if (!isSessionId(sessionId)) return undefined;
    const route = await this.get(sessionId);
    const owned = route && route.sub === owner.sub && route.server === owner.server && route.transport === owner.transport;
    if (!owned) return undefined;
    await this.keepAlive(sessionId);
    return route;
  }

  async put(sessionId: string, route: SessionRoute): Promise<void> {
    await this.kv.put(sessionId, encode(SessionRouteSchema, route));
    if (route.runnerId) this.remember(sessionId, route);
  }

  async delete(sessionId: string): Promise<void> {
    this.forget(sessionId);
    await this.kv.delete(sessionId);
  }

  /** Drops the local copy (the session ended elsewhere). */
  forget(sessionId: string): void {
    this.cache.delete(sessionId);
  }

  /** A route in use outlives the bucket's TTL: it is rewritten once a quarter of the TTL has passed. */
  async keepAlive(sessionId: string): Promise<void> {
    const cached = this.cache.get(sessionId);
    if (!cached || this.now() - cached.seenAt < this.ttlMs / 4) return;
    cached.seenAt = this.now();
    await this.kv.put(sessionId, encode(SessionRouteSchema, cached.route));
  }

  private remember(sessionId: string, route: SessionRoute): void {
    this.cache.set(sessionId, { route, seenAt: this.now() });
  }
}
