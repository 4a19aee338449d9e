import { z } from 'zod';

/** Ends a session and its backend; the reply is an AckReply. */
export const sessionCloseSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.close`;

export const SessionCloseRequestSchema = z.object({ reason: z.string() });
export type SessionCloseRequest = z.infer<typeof SessionCloseRequestSchema>;
