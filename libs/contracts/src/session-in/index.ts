import { z } from 'zod';
import { JsonRpcMessageSchema } from '../shared/json-rpc.js';
import { StreamSubjectSchema } from '../session-stream/index.js';

/** Client messages for a session's backend, in order; the reply is an AckReply. */
export const sessionInSubject = (runnerId: string, sessionId: string) => `gh.runner.${runnerId}.session.${sessionId}.in`;
/** One verb's subject for every session of one runner. */
export const runnerSessionsWildcard = (runnerId: string, verb: 'in' | 'touch' | 'attach' | 'close') =>
  `gh.runner.${runnerId}.session.*.${verb}`;

/** The session id and verb of a runner session subject, or undefined when it is not one. */
export function parseSessionSubject(subject: string): { sessionId: string; verb: string } | undefined {
  const [gh, runner, , session, sessionId, verb, ...rest] = subject.split('.');
  const shaped = gh === 'gh' && runner === 'runner' && session === 'session' && rest.length === 0;
  return shaped && sessionId !== undefined && verb !== undefined ? { sessionId, verb } : undefined;
}

export const SessionInRequestSchema = z.object({
  /** One POST's messages: a batch arrives whole, so the runner knows every request its stream answers. */
  messages: z.array(JsonRpcMessageSchema).min(1),
  /** Stream subject that receives the responses to these requests and their progress. */
  stream: StreamSubjectSchema.optional(),
});
export type SessionInRequest = z.infer<typeof SessionInRequestSchema>;
