import { z } from 'zod';
import { JsonRpcMessageSchema } from '../shared/json-rpc.js';
import { PrincipalSchema } from '../shared/principal.js';
import { replySchema } from '../shared/reply.js';
import { SESSION_ID_PATTERN, SessionTransportSchema } from '../session-route/index.js';
import { StreamSubjectSchema } from '../session-stream/index.js';

/** Edge asks a runner of the server's group to start a session (queue group per runner group). */
export const sessionOpenSubject = (runnerGroup: string) => `gh.runner.${runnerGroup}.session.open`;
export const sessionOpenQueue = (runnerGroup: string) => `gh.runner.${runnerGroup}`;

export const SessionOpenRequestSchema = z.object({
  /** 128 random bits, base64url: safe as a subject token and a KV key. */
  sessionId: z.string().regex(SESSION_ID_PATTERN),
  server: z.string().min(1),
  principal: PrincipalSchema,
  transport: SessionTransportSchema,
  /**
   * The client's initialize request, forwarded to the backend. Absent for a legacy SSE session,
   * which is reserved when its stream opens and initialized by the first message it relays.
   */
  initialize: JsonRpcMessageSchema.optional(),
  /** Legacy SSE: the stream every message of the session goes to. */
  stream: StreamSubjectSchema.optional(),
});
export type SessionOpenRequest = z.infer<typeof SessionOpenRequestSchema>;

/** The runner has recorded the session's route before it answers. */
export const SessionOpenReplySchema = replySchema({
  runnerId: z.string().min(1),
  /** The backend's answer to initialize (absent when none was sent). */
  response: JsonRpcMessageSchema.optional(),
});
export type SessionOpenReply = z.infer<typeof SessionOpenReplySchema>;
