import { z } from 'zod';
import { JsonRpcMessageSchema } from '../shared/json-rpc.js';
import { PrincipalSchema } from '../shared/principal.js';
import { replySchema } from '../shared/reply.js';
import { SESSION_ID_PATTERN } from '../session-route/index.js';

/** Edge asks a runner of the server's group to start a session (queue group per runner group). */
export const sessionOpenSubject = (runnerGroup: string) => `gh.runner.${runnerGroup}.session.open`;
export const sessionOpenQueue = (runnerGroup: string) => `gh.runner.${runnerGroup}`;

export const SessionOpenRequestSchema = z.object({
  /** 128 random bits, base64url: safe as a subject token and a KV key. */
  sessionId: z.string().regex(SESSION_ID_PATTERN),
  server: z.string().min(1),
  principal: PrincipalSchema,
  /** The client's initialize request, forwarded to the backend. */
  initialize: JsonRpcMessageSchema,
  /** Where server-initiated messages go until another stream attaches (legacy SSE). */
  stream: z.string().optional(),
});
export type SessionOpenRequest = z.infer<typeof SessionOpenRequestSchema>;

export const SessionOpenReplySchema = replySchema({
  runnerId: z.string().min(1),
  /** The backend's answer to initialize. */
  response: JsonRpcMessageSchema,
});
export type SessionOpenReply = z.infer<typeof SessionOpenReplySchema>;
