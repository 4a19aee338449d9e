import { z } from 'zod';

/**
 * A live client connection on an edge: keeps the session from idling out while the client holds a
 * stream or waits for answers, and proves the runner is alive. The reply is an AckReply
 * (SESSION_NOT_FOUND once the session is gone).
 */
export const sessionTouchSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.touch`;

export const SessionTouchRequestSchema = z.object({});
export type SessionTouchRequest = z.infer<typeof SessionTouchRequestSchema>;
