import type { Logger } from '#observability';
import { currentSessionScope } from './session-scope.js';

/** What the client of a session sees when the gateway itself failed while serving it. */
export const GUARD_END_REASON = 'the gateway failed while serving this session';

/**
 * Turns an uncaught exception or unhandled rejection into an error log and, when it happened in a
 * session's backend I/O, the end of that session only: one backend must not take every user's
 * sessions down with the process. Returns a function that removes the guard.
 */
export function installProcessGuard(log: Logger): () => void {
  const guard = (what: string) => (err: unknown) => {
    const scope = currentSessionScope();
    log.error({ err, sessionId: scope?.sessionId }, `${what}; the process keeps running`);
    try {
      scope?.end(GUARD_END_REASON);
    } catch (endErr) {
      // Throwing from here would exit the process after all.
      log.error({ err: endErr, sessionId: scope?.sessionId }, 'could not end the session after an uncaught error');
    }
  };
  const onException = guard('uncaught exception');
  const onRejection = guard('unhandled promise rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
