import { z } from 'zod';

/**
 * Liveness and stream attachment: keeps the session from idling out while a client holds a
 * stream, tells the runner where server-initiated messages go, and proves the runner is alive.
 * The reply is an AckReply (SESSION_NOT_FOUND once the session is gone).
 */
export const sessionTouchSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.touch`;

export const SessionTouchRequestSchema = z.object({
  attach: z.string().optional(),
  detach: z.string().optional(),
});
export type SessionTouchRequest = z.infer<typeof SessionTouchRequestSchema>;
