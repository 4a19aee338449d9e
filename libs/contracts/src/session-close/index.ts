import { z } from 'zod';

/** Ends a session and its backend; the reply is an AckReply, sent once the process tree is gone. */
export const sessionCloseSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.close`;

export const SessionCloseRequestSchema = z.object({ reason: z.string().max(200) });
export type SessionCloseRequest = z.infer<typeof SessionCloseRequestSchema>;
