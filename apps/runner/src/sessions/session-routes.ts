import type { KvBucket } from '#bus';
import { encode, SessionRouteSchema, type SessionRoute } from '#contracts';

/** Where edges find a session's runner. The runner that owns a session is the only writer of its route. */
export interface SessionRoutes {
  put(sessionId: string, route: SessionRoute): Promise<void>;
  delete(sessionId: string): Promise<void>;
}

/** Routes in the shared KV bucket; the bucket's TTL is a lease the runner renews while the session lives. */
export class KvSessionRoutes implements SessionRoutes {
  constructor(private readonly kv: KvBucket) {}

  put(sessionId: string, route: SessionRoute): Promise<void> {
    return this.kv.put(sessionId, encode(SessionRouteSchema, route));
  }

  delete(sessionId: string): Promise<void> {
    return this.kv.delete(sessionId);
  }
}
