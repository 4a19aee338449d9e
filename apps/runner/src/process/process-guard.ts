import type { Logger } from '#observability';

/**
 * Turns an uncaught exception or unhandled rejection into an error log: the process keeps
 * running. What a session's backend I/O throws never gets here; each backend catches it where it
 * calls out and ends that session only (see docs/adr/0011-no-session-scope.md for why an error
 * that escapes is not traced back to a session). Returns a function that removes the guard.
 */
export function installProcessGuard(log: Logger): () => void {
  const guard = (what: string) => (err: unknown) => log.error({ err }, `${what}; the process keeps running`);
  const onException = guard('uncaught exception');
  const onRejection = guard('unhandled promise rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
