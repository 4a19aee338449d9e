import { z } from 'zod';
import { JsonRpcMessageSchema } from '../shared/json-rpc.js';

/** One client message for a session's backend; the reply is an AckReply. */
export const sessionInSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.in`;

export const SessionInRequestSchema = z.object({
  message: JsonRpcMessageSchema,
  /** Stream subject that receives this request's response and related progress. */
  stream: z.string().optional(),
});
export type SessionInRequest = z.infer<typeof SessionInRequestSchema>;
