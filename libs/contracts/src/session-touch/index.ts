import { z } from 'zod';
import { replySchema } from '../shared/reply.js';

/**
 * A live client connection on an edge: keeps the session from idling out while the client holds a
 * stream or waits for answers, tells the runner where server-initiated messages go, and proves the
 * runner is alive. The reply is a TouchReply (SESSION_NOT_FOUND once the session is gone).
 */
export const sessionTouchSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.touch`;

export const SessionTouchRequestSchema = z.object({
  attach: z.string().optional(),
  detach: z.string().optional(),
  /** With `attach`: the client's Last-Event-ID; the runner replays that stream's later events to `attach`. */
  resumeAfter: z.string().max(64).optional(),
});
export type SessionTouchRequest = z.infer<typeof SessionTouchRequestSchema>;

export const TouchReplySchema = replySchema({
  /** With `attach` and no `resumeAfter`: the event id a priming event on the new stream carries. */
  eventId: z.string().optional(),
});
export type TouchReply = z.infer<typeof TouchReplySchema>;
