import { AsyncLocalStorage } from 'node:async_hooks';

/** The session whose backend I/O is running, and how to end it when that I/O fails. */
export interface SessionScope {
  readonly sessionId: string;
  /** Ends the session; `reason` is shown to the client. Idempotent. */
  end(reason: string): void;
}

const scopes = new AsyncLocalStorage<SessionScope>();

/** Runs `work` so that every callback it schedules (pipes, timers, promises) knows its session. */
export function withinSessionScope<T>(scope: SessionScope, work: () => T): T {
  return scopes.run(scope, work);
}

/** The session of the code running now, if it was started by `withinSessionScope`. */
export function currentSessionScope(): SessionScope | undefined {
  return scopes.getStore();
}
