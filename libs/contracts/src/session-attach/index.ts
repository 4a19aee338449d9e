import { z } from 'zod';
import { replySchema } from '../shared/reply.js';
import { StreamSubjectSchema } from '../session-stream/index.js';

/**
 * A GET stream opened or closed on an edge: where the session's server-initiated messages go, or,
 * with `resumeAfter`, a dropped stream picked up again. The reply is an AttachReply.
 */
export const sessionAttachSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.attach`;

export const SessionAttachRequestSchema = z.union([
  z.object({
    attach: StreamSubjectSchema,
    /** The client's Last-Event-ID: the runner replays that stream's later events to `attach`. */
    resumeAfter: z.string().max(64).optional(),
  }),
  z.object({ detach: StreamSubjectSchema }),
]);
export type SessionAttachRequest = z.infer<typeof SessionAttachRequestSchema>;

export const AttachReplySchema = replySchema({
  /** For a new standalone stream: the event id its priming event carries. */
  eventId: z.string().optional(),
});
export type AttachReply = z.infer<typeof AttachReplySchema>;
